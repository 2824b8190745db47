"""fastem: fast EM for many one-dimensional Gaussian mixtures at once."""

import importlib as _importlib

__version__ = "0.1.0"

_HOMES = {
    "CacheWarning": ".engine.jit",
    "StandardErrors": ".engine.information",
    "Model": ".model",
    "Status": ".engine.status",
    "Matched": ".toolkit.matching",
    "RestartSummary": ".toolkit.matching",
    "match_components": ".toolkit.matching",
    "restart_summary": ".toolkit.matching",
    "fit": ".api",
    "Intervals": ".binned",
    "BootstrapResult": ".toolkit.bootstrap_result",
    "bootstrap": ".toolkit.bootstrap",
    "Design": ".toolkit.design",
    "GaussianMixture": ".interop.estimator",
    "StartingValues": ".init",
    "starting_values": ".init",
    "LRTResult": ".toolkit.lrt_result",
    "bootstrap_lrt": ".toolkit.lrt",
    "EMTestResult": ".toolkit.emtest",
    "emtest": ".toolkit.emtest",
    "plan_replications": ".toolkit.mcse",
    "Mixtures": ".mixtures",
    "read_fit": ".mixtures",
    "ConvergenceWarning": ".result",
    "DegenerateFitWarning": ".result",
    "FitResult": ".result",
    "SearchWarning": ".result",
    "Settledness": ".search",
    "settledness": ".search",
    "SelectionResult": ".toolkit.selection",
    "select": ".toolkit.selection",
    "simulate": ".toolkit.simulation",
    "SpuriousRule": ".spurious",
    "Scenario": ".toolkit.study_results",
    "grid_scenarios": ".toolkit.designgrid",
    "StudyCell": ".toolkit.study_results",
    "StudyResult": ".toolkit.study_results",
    "study": ".toolkit.study",
    "Table": ".table",
}
"""The module of each public name. Names are imported on first use (PEP 562), so that
``import fastem`` alone loads neither numba nor SciPy, scikit-learn (the estimator's
optional dependency), Dask or matplotlib: each comes with the first name that needs it."""
_SUBMODULES = ("init", "reference", "mcse", "plots", "dask", "search", "priors")
"""Submodules that are public as modules."""


def __getattr__(name):
    if name in _HOMES:
        value = getattr(_importlib.import_module(_HOMES[name], __name__), name)
    elif name in _SUBMODULES:
        value = _importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'fastem' has no attribute {name!r}")
    globals()[name] = value  # later uses find it without this function
    return value


def __dir__():
    # The public names and the module's own dunders; not the helpers above, nor the
    # standard modules this file imports (under private names for that reason).
    names = {*globals(), *_HOMES, *_SUBMODULES}
    return sorted(name for name in names if not name.startswith("_") or name.startswith("__"))


__all__ = sorted({*_HOMES, "init", "reference"})

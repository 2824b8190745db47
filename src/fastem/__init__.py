"""fastem: fast EM for many one-dimensional Gaussian mixtures at once."""

import importlib as _importlib
import sys as _sys
import types as _types

__version__ = "0.1.0"

_HOMES = {
    "CacheWarning": "._jit",
    "StandardErrors": "._information",
    "Model": "._model",
    "Status": "._status",
    "Matched": ".analysis",
    "RestartSummary": ".analysis",
    "match_components": ".analysis",
    "restart_summary": ".analysis",
    "fit": ".api",
    "BootstrapResult": ".bootstrap",
    "bootstrap": ".bootstrap",
    "Design": ".design",
    "GaussianMixture": ".estimator",
    "StartingValues": ".init",
    "starting_values": ".init",
    "LRTResult": ".lrt",
    "bootstrap_lrt": ".lrt",
    "plan_replications": ".mcse",
    "Mixtures": ".mixtures",
    "read_fit": ".mixtures",
    "ConvergenceWarning": ".result",
    "DegenerateFitWarning": ".result",
    "FitResult": ".result",
    "SearchWarning": ".result",
    "Settledness": ".search",
    "settledness": ".search",
    "SelectionResult": ".select",
    "select": ".select",
    "simulate": ".simulate",
    "SpuriousRule": ".spurious",
    "Scenario": ".study",
    "StudyCell": ".study",
    "StudyResult": ".study",
    "study": ".study",
    "Table": ".table",
}
"""The module of each public name. Names are imported on first use (PEP 562), so that
``import fastem`` alone loads neither numba nor SciPy, scikit-learn (the estimator's
optional dependency), Dask or matplotlib: each comes with the first name that needs it."""
_SUBMODULES = ("init", "reference", "mcse", "plots", "dask", "search")
"""Submodules that are public as modules."""
_SHADOWED = tuple(name for name, home in _HOMES.items() if home == f".{name}")
"""Functions named as their own modules (``fastem.study`` is the function of
``fastem/study.py``): importing such a module binds it on the package, and would hide the
function, so these names are properties of the package that always give the function."""


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


class _Package(_types.ModuleType):
    """The package's module type, holding the properties of :data:`_SHADOWED`."""


def _function_of_module(name):
    def get(package):
        return getattr(_importlib.import_module(f".{name}", __name__), name)

    def bind_module(package, module):
        pass  # the import system binds the submodule; the name stays the function's

    return property(get, bind_module)


for _name in _SHADOWED:
    setattr(_Package, _name, _function_of_module(_name))
_sys.modules[__name__].__class__ = _Package

__all__ = sorted({*_HOMES, "init", "reference"})

"""fastem: fast EM for many one-dimensional Gaussian mixtures at once."""

from . import init
from ._information import StandardErrors
from ._model import Model
from ._status import Status
from .analysis import Matched, RestartSummary, match_components, restart_summary
from .api import fit
from .bootstrap import BootstrapResult, bootstrap
from .design import Design
from .init import StartingValues, starting_values
from .lrt import LRTResult, bootstrap_lrt
from .mcse import plan_replications
from .result import ConvergenceWarning, DegenerateFitWarning, FitResult
from .select import SelectionResult, select
from .simulate import simulate
from .spurious import SpuriousRule
from .study import Scenario, StudyCell, StudyResult, study
from .table import Table

__version__ = "0.1.0"


def __getattr__(name):
    # The scikit-learn estimator needs scikit-learn, an optional dependency, and the NumPy
    # reference SciPy: import them only when asked for, so that ``import fastem`` stays quick.
    if name == "GaussianMixture":
        from .estimator import GaussianMixture

        return GaussianMixture
    if name == "reference":
        import importlib

        return importlib.import_module(".reference", __name__)
    raise AttributeError(f"module 'fastem' has no attribute {name!r}")


__all__ = [
    "BootstrapResult",
    "ConvergenceWarning",
    "DegenerateFitWarning",
    "Design",
    "FitResult",
    "GaussianMixture",
    "LRTResult",
    "Matched",
    "Model",
    "RestartSummary",
    "Scenario",
    "SelectionResult",
    "SpuriousRule",
    "StandardErrors",
    "StartingValues",
    "StudyCell",
    "StudyResult",
    "Status",
    "Table",
    "bootstrap",
    "bootstrap_lrt",
    "fit",
    "init",
    "match_components",
    "plan_replications",
    "reference",
    "restart_summary",
    "select",
    "simulate",
    "starting_values",
    "study",
]

"""fastem: fast EM for many one-dimensional Gaussian mixtures at once."""

from . import init, reference
from ._model import Model
from ._status import Status
from .api import ConvergenceWarning, DegenerateFitWarning, FitResult, fit
from .init import StartingValues, starting_values
from .simulate import simulate

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "DegenerateFitWarning",
    "FitResult",
    "Model",
    "StartingValues",
    "Status",
    "fit",
    "init",
    "reference",
    "simulate",
    "starting_values",
]

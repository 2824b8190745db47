"""fastem: fast EM for many one-dimensional Gaussian mixtures at once."""

from ._status import Status
from .api import ConvergenceWarning, DegenerateFitWarning, FitResult, fit
from .init import starting_values
from .simulate import simulate

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "DegenerateFitWarning",
    "FitResult",
    "Status",
    "fit",
    "simulate",
    "starting_values",
]

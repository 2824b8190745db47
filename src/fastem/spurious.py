"""The rule that calls a fitted mixture a spurious maximum of the likelihood.

The Gaussian mixture likelihood is unbounded: a component whose mean sits on one point and
whose variance shrinks to 0 sends it to infinity, and short of that, a component fitted
to a handful of points that happen to lie close together is a local maximum of high
likelihood that describes the sample, not the population (McLachlan & Peel 2000,
section 3.10, "spurious local maximizers"). Such a component has both a small expected
number of points and a variance small next to the others'; Hathaway's (1985) constrained
formulation bounds the second, ``min_k var_k / max_j var_j >= c``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from . import checks as _validate


@dataclass(frozen=True)
class SpuriousRule:
    """The rule that tells a spurious maximum from a fit of the mixture.

    A fit is spurious when one of its components stands on fewer than ``min_points``
    expected points (``n * weight``, ``n`` the number of points or the sum of the sample
    weights) **and** has a variance below ``min_variance_ratio`` times the largest
    component variance (a standard deviation below ``sqrt(min_variance_ratio)``, a tenth by
    default, of the widest component's).

    Both conditions must hold, so a real small cluster of moderate width, or a narrow
    component that many points support, is never called spurious. The defaults keep the
    fits mclust chooses on the classic datasets (galaxies: a 7-point cluster with variance
    ratio 0.005; Old Faithful's eruptions: a 31-point component with ratio 0.015) and
    catch about three quarters of the fits with a variance under 0.1 (true: 4) in
    ``fastem study``'s default design (:doc:`/guide/search` gives the study).
    ``SpuriousRule(0, 0)``
    flags only collapsed components (``Status.VARIANCE_FLOORED``).

    Used alike by :func:`fastem.fit` (``Status.SPURIOUS``, ``skip_degenerate``),
    :func:`fastem.select` (a spurious candidate is not eligible),
    :func:`fastem.restart_summary` and :func:`fastem.study` (column ``spurious``).

    Examples
    --------
    Two fits to 100 points: the second's narrow component stands on one expected point.

    >>> weights, variances = np.array([[0.5, 0.5], [0.99, 0.01]]), np.array([[1, 1], [1, 1e-3]])
    >>> fastem.SpuriousRule().flags(weights, variances, 100)
    array([False,  True])
    """

    #: float: a spurious component stands on fewer expected points than this.
    min_points: float = 5.0
    #: float: a spurious component's variance is below this fraction of the largest.
    min_variance_ratio: float = 0.01

    def __post_init__(self) -> None:
        _validate.check_non_negative("min_points", self.min_points)
        ratio = _validate.check_non_negative("min_variance_ratio", self.min_variance_ratio)
        if ratio > 1:
            raise ValueError(f"min_variance_ratio must be at most 1, got {ratio}.")

    def flags(
        self, weights: ArrayLike, variances: ArrayLike, n_observations: ArrayLike
    ) -> np.ndarray:
        """Whether each fit is spurious: parameters of shape (..., n_components) and the
        ``n`` of each fit, broadcastable to shape (...)."""
        weights = np.asarray(weights, dtype=np.float64)
        variances = np.asarray(variances, dtype=np.float64)
        n = np.asarray(n_observations, dtype=np.float64)[..., np.newaxis]
        widest = variances.max(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore"):
            few = weights * n < self.min_points
            narrow = variances < self.min_variance_ratio * widest
        return (few & narrow).any(axis=-1)


def check_rule(rule: object) -> SpuriousRule:
    if not isinstance(rule, SpuriousRule):
        raise TypeError(
            f"spurious must be a fastem.SpuriousRule, got {rule!r}; e.g. "
            "fastem.SpuriousRule(min_points=5, min_variance_ratio=0.01), or "
            "fastem.SpuriousRule(0, 0) to flag only collapsed components."
        )
    return rule

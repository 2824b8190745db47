"""The mixture model being fitted: components, constraints, regularisation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .priors import Penalty


@dataclass(frozen=True)
class Model:
    """What is fitted, the same for every fit of a batch.

    ``fixed_*`` are boolean arrays of shape (n_components,): those components'
    parameters keep their starting values. Equal weights are fixed weights of ``1/K``.

    Examples
    --------
    >>> model = fastem.Model(2, equal_variance=True)
    >>> model.describe(), model.n_parameters
    ('2 components, equal variance', 4)
    """

    #: int: the number of components ``K``.
    n_components: int
    #: float: added to every variance at each M-step, as a fraction of the dataset's.
    reg_variance: float = 0.0
    #: bool: one variance shared by all components.
    equal_variance: bool = False
    #: bool: weights fixed at ``1/K``.
    equal_weights: bool = False
    # None fixes no component: __post_init__ makes every mask an array.
    #: bool array of shape (n_components,): components whose weight keeps its start.
    fixed_weights: np.ndarray = field(default=None)  # type: ignore[arg-type]
    #: bool array of shape (n_components,): components whose mean keeps its start.
    fixed_means: np.ndarray = field(default=None)  # type: ignore[arg-type]
    #: bool array of shape (n_components,): components whose variance keeps its start.
    fixed_variances: np.ndarray = field(default=None)  # type: ignore[arg-type]
    #: :class:`fastem.priors.Penalty` or None: the penalty (or prior) on the likelihood.
    penalty: Penalty | None = None

    def __post_init__(self) -> None:
        for name in ("fixed_weights", "fixed_means", "fixed_variances"):
            mask = getattr(self, name)
            mask = np.zeros(self.n_components, dtype=np.bool_) if mask is None else mask
            object.__setattr__(self, name, np.array(mask, dtype=np.bool_))
        if self.equal_weights:
            object.__setattr__(self, "fixed_weights", np.ones(self.n_components, dtype=np.bool_))

    def describe(self) -> str:
        """``"2 components, unequal variances"``, with the constraints and regularisation."""
        k = self.n_components
        parts = [f"{k} component{'s' if k > 1 else ''}"]
        if k > 1:
            parts.append("equal variance" if self.equal_variance else "unequal variances")
            if self.equal_weights:
                parts.append("equal weights")
        for name, mask in (
            ("weights", self.fixed_weights),
            ("means", self.fixed_means),
            ("variances", self.fixed_variances),
        ):
            if mask.any() and not (name == "weights" and self.equal_weights):
                which = "all" if mask.all() else ", ".join(str(i + 1) for i in np.flatnonzero(mask))
                parts.append(f"fixed {name} ({which})")
        if self.reg_variance > 0:
            parts.append(f"reg_variance {self.reg_variance:g}")
        if self.penalty is not None:
            parts.append(self.penalty.describe())
        return ", ".join(parts)

    @property
    def n_parameters(self) -> int:
        """Free parameters, for BIC and AIC.

        Weights: ``K - 1`` less the fixed ones (a last free weight is determined by the
        others). Means: ``K`` less the fixed ones. Variances: 1 when they are equal, else
        ``K``, less the fixed ones.
        """
        k = self.n_components
        free_weights = k - int(self.fixed_weights.sum())
        n_weights = max(free_weights - 1, 0) if free_weights > 0 else 0
        n_means = k - int(self.fixed_means.sum())
        if self.equal_variance:
            n_variances = 0 if self.fixed_variances.any() else 1
        else:
            n_variances = k - int(self.fixed_variances.sum())
        return n_weights + n_means + n_variances

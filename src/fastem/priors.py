"""Penalised likelihood and conjugate priors: the ``penalty`` and ``prior`` options of
:func:`fastem.fit`, turned into each dataset's hyperparameters for the kernels
(``fastem.engine.penalty``) and into the penalty's value in the data's units.

Two families, one form (see ``fastem.engine.penalty``):

- ``penalty``: Chen, Tan & Zhang's (2008) penalty on the variances,
  ``-a_n sum_k (s^2 / sigma_k^2 + log(sigma_k^2 / s^2))``, ``s^2`` the dataset's sample
  variance (divisor ``n - 1``, as MixtureInf's ``var(x)``), ``a_n = n^(-1/2)`` by
  default; and optionally Chen & Li's (2009) ``C sum_k log(pi_k)`` on the weights.
- ``prior``: mclust's conjugate prior (``priorControl()``, ``defaultPrior``) for the
  models V and E: a normal prior on each mean given its variance, ``N(mean,
  sigma_k^2 / shrinkage)``, and an inverse gamma on each variance (on the common one for
  E), of shape ``dof / 2`` and scale ``scale / 2``; by default ``shrinkage = 0.01``, the
  data's mean, ``dof = 3`` and ``scale = var(x) / K^2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import penalty as _penalty

PRIOR_DEFAULTS = {"shrinkage": 0.01, "mean": None, "dof": 3.0, "scale": None}
"""mclust's ``defaultPrior`` for one dimension (None: from the data)."""
PENALTY_DEFAULTS = {"a_n": None, "mixing": 0.0}
"""Chen, Tan & Zhang's ``a_n`` (None: ``n^(-1/2)``) and Chen & Li's ``C`` (0: none)."""


@dataclass(frozen=True)
class Penalty:
    """A penalty on the likelihood, the same for every dataset of a batch.

    ``kind`` is ``"ctz"`` (Chen, Tan & Zhang's, with ``a_n`` and ``mixing`` in
    ``settings``) or ``"prior"`` (mclust's conjugate prior: ``shrinkage``, ``mean``,
    ``dof``, ``scale``). A value of None in ``settings`` is taken from each dataset.

    Examples
    --------
    >>> fastem.priors.Penalty.of(penalty="ctz", prior=None).describe()
    'penalty ctz (a_n n^-1/2)'
    """

    kind: str
    settings: tuple[tuple[str, float | None], ...]

    @classmethod
    def of(cls, penalty, prior) -> Penalty | None:
        """The checked ``penalty`` and ``prior`` options of :func:`fastem.fit`, or None."""
        if penalty is not None and prior is not None:
            raise ValueError(
                "penalty and prior were both given; they are two ways of penalising the "
                "likelihood: pass one of them."
            )
        if penalty is not None:
            return cls("ctz", _settings("penalty", penalty, PENALTY_DEFAULTS, "ctz", "a_n"))
        if prior is not None:
            return cls("prior", _settings("prior", prior, PRIOR_DEFAULTS, "default", None))
        return None

    def get(self, name: str):
        return dict(self.settings)[name]

    def describe(self) -> str:
        """``"penalty ctz (a_n n^-1/2)"`` or ``"prior (shrinkage 0.01, dof 3)"``."""
        given: dict[str, Any] = dict(self.settings)
        if self.kind == "ctz":
            a_n = "n^-1/2" if given["a_n"] is None else f"{given['a_n']:g}"
            mixing = f", C {given['mixing']:g}" if given["mixing"] else ""
            return f"penalty ctz (a_n {a_n}{mixing})"
        parts = [f"{name} {value:g}" for name, value in self.settings if value is not None]
        return f"prior ({', '.join(parts)})"

    def rows(self, batch, n_components: int, equal_variance: bool) -> np.ndarray:
        """Each dataset's hyperparameters ``(kappa, m0, psi, nu, c)`` in standardised units,
        per component (with ``equal_variance`` the kernels sum them over components):
        float64 array of shape (n_datasets, ``fastem.engine.penalty.N_HYPER``)."""
        return self.rows_and_constants(batch, n_components, equal_variance)[0]

    def rows_and_constants(self, batch, k: int, equal_variance: bool):
        """:meth:`rows`, and what turns the kernels' penalty (standardised,
        :func:`log_penalty`) into the penalty in the data's units: an array of shape
        (n_datasets,)."""
        n = batch.n_observations
        # The sample variance (divisor n - 1) in standardised units, whose variance is the
        # population one (divisor n): n / (n - 1); 0 for a constant dataset.
        spread = np.where(batch.scale > 0, _population_variance(batch) / batch.scale**2, 0.0)
        s2 = spread * n / np.maximum(n - 1.0, 1.0)
        rows = np.zeros((n.size, _penalty.N_HYPER))
        given: dict[str, Any] = dict(self.settings)
        if self.kind == "ctz":
            a_n = 1.0 / np.sqrt(n) if given["a_n"] is None else np.full(n.size, given["a_n"])
            rows[:, _penalty.PSI] = 2.0 * a_n * s2
            rows[:, _penalty.NU] = 2.0 * a_n
            rows[:, _penalty.C] = given["mixing"]
            constants = k * a_n * np.log(np.where(s2 > 0, s2, 1.0))
            return rows, constants
        scale = s2 / k**2 if given["scale"] is None else given["scale"] / batch.scale**2
        if not (scale > 0).all():
            raise ValueError(
                f"{np.count_nonzero(scale <= 0)} dataset(s) have every point equal, so the "
                "prior's default scale var(x) / K^2 is 0; pass prior={'scale': ...} (a "
                "variance in the data's units), or leave such datasets out."
            )
        kappa, dof = given["shrinkage"], given["dof"]
        mean = 0.0 if given["mean"] is None else (given["mean"] - batch.center) / batch.scale
        n_gammas = 1 if equal_variance else k  # inverse gamma priors
        nu_total = n_gammas * (dof + 2.0) + k  # each normal prior brings log(sigma^2)/2
        rows[:, _penalty.KAPPA] = kappa
        rows[:, _penalty.M0] = mean
        rows[:, _penalty.PSI] = n_gammas * scale / k
        rows[:, _penalty.NU] = nu_total / k
        alpha = dof / 2.0
        data_scale = scale * batch.scale**2
        constant = n_gammas * (alpha * np.log(data_scale / 2.0) - math.lgamma(alpha))
        if kappa > 0:
            constant = constant + k * 0.5 * (math.log(kappa) - math.log(2.0 * math.pi))
        # log sigma_x^2 = log sigma_z^2 + 2 log s: each nu / 2 brings nu log s.
        return rows, constant - nu_total * np.log(batch.scale)


def split(model, batch, log_likelihood, parameters):
    """The kernels' penalised log-likelihoods of shape (n_datasets, n_init), already in
    the data's units less the penalty's constant, as ``(penalised, plain)`` log-likelihoods
    in the data's units; ``parameters`` the fitted ``(weights, means, variances)``,
    standardised, of shape (n_fits, K)."""
    rows, constants = model.penalty.rows_and_constants(
        batch, model.n_components, model.equal_variance
    )
    grid = (*log_likelihood.shape, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = log_penalty(rows, *(array.reshape(grid) for array in parameters))
    return log_likelihood + constants[:, np.newaxis], log_likelihood - values


def checked(option: str, value):
    """``value`` of the option ``penalty`` or ``prior``, checked (raises with the fix)."""
    if value is not None:
        Penalty.of(**{"penalty": None, "prior": None, option: value})
    return value


def labelled_penalties(values) -> list[tuple[str, object]]:
    """A study's penalties to compare (one value of ``penalty``, or a list of them; None
    or ``"none"`` for no penalty), checked, each with its label in the study's table:
    ``[("none", None), ("ctz", "ctz"), ("a_n=0.3", {"a_n": 0.3})]``."""
    from .options.option import parse_penalty

    if values is None or isinstance(values, (str, dict, int, float)):
        values = [values]
    labelled = {}
    for value in values:
        if isinstance(value, dict):
            label = ",".join(f"{key}={item:g}" for key, item in value.items())
        elif isinstance(value, (int, float)):
            label = f"{value:g}"
        else:
            label = "none" if value is None else str(value)
        labelled[label] = checked("penalty", parse_penalty(value))
    if not labelled:
        raise ValueError("penalty is empty; give at least one, e.g. ['none', 'ctz'].")
    return list(labelled.items())


def check_algorithm(penalty, prior, algorithm: str) -> None:
    """CEM and SEM climb no penalised likelihood: refuse them with a penalty."""
    if (penalty is not None or prior is not None) and algorithm in ("cem", "sem"):
        option = "penalty" if penalty is not None else "prior"
        raise ValueError(
            f"algorithm={algorithm!r} maximises the classification likelihood, which {option} "
            "does not penalise; use algorithm='em' or an accelerator ('squarem', 'daarem', "
            "'qn') with it."
        )


def _population_variance(batch) -> np.ndarray:
    from .engine.layout import moments

    return moments(batch)[1]


def _settings(option, value, defaults, name, number):
    """``value`` of ``option``, a name, a number (``number``'s value) or a mapping of
    ``defaults``' names, as ``defaults`` updated; raises with the fix otherwise."""
    settings = dict(defaults)
    if isinstance(value, str):
        if value != name:
            raise ValueError(
                f"{option}={value!r} is not known; pass {option}={name!r}"
                + (f", a number (its {number})" if number else "")
                + f" or a dict of {', '.join(defaults)}."
            )
    elif number is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        settings[number] = value
    elif isinstance(value, dict):
        unknown = set(value) - set(defaults)
        if unknown:
            raise ValueError(
                f"{option} has no setting {sorted(unknown)[0]!r}; its settings are "
                f"{', '.join(defaults)}."
            )
        settings.update(value)
    else:
        raise TypeError(
            f"{option}={value!r} is neither {name!r}"
            + (f", a number (its {number})" if number else "")
            + f" nor a dict of {', '.join(defaults)}."
        )
    for key, item in settings.items():
        if item is None and key in ("a_n", "mean", "scale"):
            continue
        if not isinstance(item, (int, float)) or isinstance(item, bool) or not math.isfinite(item):
            raise ValueError(f"{option}'s {key} must be a finite number, not {item!r}.")
        positive = key in ("a_n", "scale", "dof")
        if item < 0 or (positive and item <= 0):
            bound = "positive" if positive else "non-negative"
            raise ValueError(f"{option}'s {key} must be {bound}, not {item!r}.")
        settings[key] = float(item)
    return tuple(settings.items())


def log_penalty(rows, weights, means, variances) -> np.ndarray:
    """The kernels' penalty (``fastem.engine.penalty.log_penalty``) of parameters of
    shape (n_datasets, ..., K) in standardised units, with ``rows`` of shape
    (n_datasets, N_HYPER): array of shape (n_datasets, ...)."""
    shape = (rows.shape[0],) + (1,) * (means.ndim - 1)
    kappa, m0, psi, nu, c = (rows[:, j].reshape(shape) for j in range(_penalty.N_HYPER))
    shrink = means - m0
    terms = -0.5 * (nu * np.log(variances) + (psi + kappa * shrink * shrink) / variances)
    with np.errstate(divide="ignore"):
        mixing = np.where(c != 0.0, c * np.log(weights), 0.0)
    return (terms + mixing).sum(axis=-1)

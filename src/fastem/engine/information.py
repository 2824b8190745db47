"""Standard errors of fitted mixtures from the observed information matrix, for every
dataset of a batch in one pass over the data (``fit(..., se=...)``).

The parameters are those of mixtools and mixsmsn: the weights less one (the last free
weight is what the others leave), the means, and the variances (not the standard
deviations). For point ``i`` and component ``k``, with ``f_ik = w_k N(x_i; mu_k, v_k)``
and ``t = x_i - mu_k``, the gradient and Hessian of ``log f_ik`` in ``(w_k, mu_k, v_k)``
are::

    g_ik = (1 / w_k,  t / v_k,  (t^2 / v_k - 1) / (2 v_k))
    H_ik = [[-1 / w_k^2, 0,          0                    ],
            [0,          -1 / v_k,   -t / v_k^2           ],
            [0,          -t / v_k^2, 1 / (2 v_k^2) - t^2 / v_k^3]]

and the score of the point is ``s_i = sum_k r_ik g_ik`` (``r_ik`` its responsibilities).
Two informations come out of the same pass:

- "score": ``sum_i s_i s_i^T``, the outer product of the scores (Basford et al. 1997;
  R's mixsmsn ``im.smsn``), which estimates the information at the maximum;
- "louis": ``sum_i [sum_k r_ik (-H_ik - g_ik g_ik^T) + s_i s_i^T]``, Louis's (1982)
  complete-data information less the missing information, which is exactly the negative
  Hessian of the observed log-likelihood, at any parameter value.

Both are summed (times each point's ``sample_weight``) over the ``3 K`` parameters
``(w_1..w_K, mu_1..mu_K, v_1..v_K)`` with the weights unconstrained, then projected onto
the free parameters: with ``full = A free + c`` (fixed parameters, the last free weight
and a shared variance make ``A`` more than a selection), ``I_free = A^T I A``. The
covariance of the free parameters is ``I_free^-1``, and each full parameter's standard
error is the root of the diagonal of ``A I_free^-1 A^T`` (the delta method, for the last
free weight).

Everything is computed in the kernel's standardised units, where points, means and
variances are of order 1 whatever the data's scale, and mapped back at the end: means'
standard errors times the scale, variances' times its square.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import layout as _layout
from .jit import jit

METHODS = {
    "score": "the outer product of the scores",
    "louis": "the observed information (Louis's method)",
}
"""The informations ``fit(..., se=...)`` takes, and what each one is (see the module's
docstring)."""

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True, eq=False)
class StandardErrors:
    """Standard errors of the fitted parameters, from the observed information matrix.

    Shapes are given for a batch; for a single 1D dataset the leading ``n_datasets`` axis
    is dropped, as in :class:`fastem.FitResult`.

    See Also
    --------
    fastem.fit : with ``se="score"`` or ``se="louis"``, its
        :attr:`~fastem.FitResult.standard_errors` are these.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> errors = fastem.fit(x, 2, n_init=4, random_state=0, se="louis").standard_errors
    >>> errors.names.tolist()
    ['weight 1', 'mean 1', 'mean 2', 'variance 1', 'variance 2']
    >>> np.round(errors.means, 2), errors.covariance.shape, bool(errors.failed)
    (array([0.06, 0.07]), (5, 5), False)
    """

    #: {"score", "louis"}: the information they come from: "score", the outer product of
    #: the per-point scores (Basford et al. 1997, mixsmsn's ``im.smsn``), or "louis", the
    #: exact observed information by Louis's (1982) method.
    method: str
    #: ndarray of shape (n_datasets, n_components): standard errors of the fitted weights,
    #: in the order of the returned components. The last free weight, which the others
    #: determine, gets its standard error by the delta method. NaN for a fixed weight (held
    #: by ``fix_weights`` or ``equal_weights``, or left as the only free one), and for
    #: every parameter of a dataset whose fit failed or whose information matrix is
    #: singular or not positive definite (:attr:`failed`).
    weights: np.ndarray
    #: ndarray of shape (n_datasets, n_components): standard errors of the fitted means,
    #: in the data's units; NaN as for :attr:`weights`.
    means: np.ndarray
    #: ndarray of shape (n_datasets, n_components): standard errors of the fitted
    #: variances, in the data's units; NaN as for :attr:`weights`.
    variances: np.ndarray
    #: ndarray of shape (n_datasets, n_parameters, n_parameters): covariance matrix of
    #: each dataset's free parameters, the inverse of their information, in the data's
    #: units (an entry whose units are beyond float64, as a variance's square for data
    #: scaled by more than about 1e75, overflows to inf).
    covariance: np.ndarray
    #: ndarray of str, of shape (n_datasets, n_parameters): the free parameters, in the
    #: order of ``covariance``'s rows: the weights but the last free one (``"weight 1"``),
    #: the means (``"mean 2"``), then the variances (``"variance 3"``, or ``"variance"``
    #: for one shared by all components), numbered from 1 as the returned components.
    #: Fixed parameters are left out, so with partly fixed parameters and components
    #: sorted by mean the names may differ between datasets.
    names: np.ndarray

    @property
    def failed(self):
        """Whether each dataset has no standard errors (NaN): its fit failed, or its
        information matrix is singular or not positive definite. A bool array of shape
        (n_datasets,), or a bool for one 1D dataset."""
        return np.isnan(self.covariance).any(axis=(-2, -1))

    def __repr__(self) -> str:
        return (
            f"<StandardErrors ({self.method}) of {self.covariance.shape[-1]} free "
            f"parameter(s): {', '.join(np.atleast_2d(self.names)[0])}>"
        )


@jit
def observed_information(
    values, offsets, sample_weight, center, scale, weights, means, variances, score, louis
):
    """The two observed informations of every dataset, in standardised units, over the
    full parameters ``(w_1..w_K, mu_1..mu_K, v_1..v_K)``: ``score[d]`` is ``sum_i c_i s_i
    s_i^T`` and ``louis[d]`` adds ``sum_i c_i sum_k r_ik (-H_ik - g_ik g_ik^T)``, ``c_i``
    the point's weight (see the module's docstring). Sums run over the points in order.

    Serial: it takes one pass over each dataset's points, against the tens to hundreds of
    its fit, and numba compiles a parallel loop around this body in three times the time
    (several seconds of a first fit with standard errors)."""
    n_components = means.shape[1]
    n_full = 3 * n_components
    weighted = sample_weight.size > 0
    for d in range(offsets.size - 1):
        inv_scale = 1.0 / scale[d]
        log_norm = np.empty(n_components)
        precision = np.empty(n_components)
        dev = np.empty(n_components)
        log_joint = np.empty(n_components)
        joint = np.empty(n_components)
        s = np.empty(n_full)
        outer = np.zeros((n_full, n_full))
        blocks = np.zeros((n_components, 5))  # per k: wm, wv, mm, mv, vv
        for k in range(n_components):
            precision[k] = 1.0 / variances[d, k]
            log_norm[k] = math.log(weights[d, k]) - 0.5 * math.log(variances[d, k]) - HALF_LOG_2PI
        for i in range(offsets[d], offsets[d + 1]):
            c = sample_weight[i] if weighted else 1.0
            z = (values[i] - center[d]) * inv_scale
            top = -math.inf
            for k in range(n_components):
                dev[k] = z - means[d, k]
                log_joint[k] = log_norm[k] - 0.5 * dev[k] * dev[k] * precision[k]
                top = max(top, log_joint[k])
            total = 0.0
            for k in range(n_components):
                joint[k] = math.exp(log_joint[k] - top)
                total += joint[k]
            for k in range(n_components):
                r = joint[k] / total
                t, p = dev[k], precision[k]
                g_w = 1.0 / weights[d, k]
                g_m = t * p
                g_v = 0.5 * (t * g_m - 1.0) * p
                s[k] = r * g_w
                s[n_components + k] = r * g_m
                s[2 * n_components + k] = r * g_v
                # -H - g g^T; the ww entry, 1 / w^2 - (1 / w)^2, is 0.
                rc = r * c
                blocks[k, 0] -= rc * g_w * g_m
                blocks[k, 1] -= rc * g_w * g_v
                blocks[k, 2] += rc * (p - g_m * g_m)
                blocks[k, 3] += rc * (t * p * p - g_m * g_v)
                blocks[k, 4] += rc * (t * t * p * p * p - 0.5 * p * p - g_v * g_v)
            for a in range(n_full):
                ca = c * s[a]
                for b in range(a, n_full):
                    outer[a, b] += ca * s[b]
        for a in range(n_full):
            for b in range(a, n_full):
                score[d, a, b] = outer[a, b]
                score[d, b, a] = outer[a, b]
                louis[d, a, b] = outer[a, b]
                louis[d, b, a] = outer[a, b]
        for k in range(n_components):
            m, v = n_components + k, 2 * n_components + k
            louis[d, m, m] += blocks[k, 2]
            louis[d, v, v] += blocks[k, 4]
            for a, b, j in ((k, m, 0), (k, v, 1), (m, v, 3)):
                louis[d, a, b] += blocks[k, j]
                louis[d, b, a] += blocks[k, j]


def projection(fixed_weights, fixed_means, fixed_variances, equal_variance):
    """``(A, names, kinds)`` for one pattern of fixed parameters (boolean arrays of shape
    (K,)): the matrix of shape (3 K, n_parameters) with ``full = A free + c``, the free
    parameters' names, and their kinds (0 weight, 1 mean, 2 variance: the power of the
    data's scale in their units).

    The free weights are all weights not fixed, and share what the fixed ones leave (as
    the M-step has them): the last of them is that share less the others, so each other
    free weight moves it by -1. With one free weight, it is fixed by the others. A shared
    variance is one parameter that moves every variance.
    """
    k = fixed_weights.size
    columns, names, kinds = [], [], []

    def column(kind, name):
        columns.append(np.zeros(3 * k))
        names.append(name)
        kinds.append(kind)
        return columns[-1]

    free = np.flatnonzero(~fixed_weights)
    for j in free[:-1]:
        a = column(0, f"weight {j + 1}")
        a[j], a[free[-1]] = 1.0, -1.0
    for j in np.flatnonzero(~fixed_means):
        column(1, f"mean {j + 1}")[k + j] = 1.0
    if equal_variance:
        if not fixed_variances.any():
            column(2, "variance")[2 * k :] = 1.0
    else:
        for j in np.flatnonzero(~fixed_variances):
            column(2, f"variance {j + 1}")[2 * k + j] = 1.0
    matrix = np.stack(columns, axis=1) if columns else np.zeros((3 * k, 0))
    return matrix, names, np.array(kinds, dtype=np.int64)


def inverse(information):
    """Inverses of a stack of symmetric matrices of shape (..., p, p), NaN for each one
    that is not numerically positive definite.

    Each matrix is first scaled to a unit diagonal (a correlation-like matrix), so that
    the test does not depend on the parameters' units; it then counts as singular when its
    smallest eigenvalue is below ``p * eps`` times its largest (NumPy's ``matrix_rank``
    tolerance), or not positive.
    """
    p = information.shape[-1]
    result = np.full(information.shape, np.nan)
    if p == 0:
        return result
    diagonal = np.diagonal(information, axis1=-2, axis2=-1)
    usable = np.isfinite(information).all(axis=(-2, -1)) & (diagonal > 0.0).all(axis=-1)
    factor = np.where(
        usable[..., np.newaxis],
        1.0 / np.sqrt(np.where(usable[..., np.newaxis], diagonal, 1.0)),
        1.0,
    )
    scaled = information * factor[..., :, np.newaxis] * factor[..., np.newaxis, :]
    scaled[~usable] = np.eye(p)
    eigenvalues = np.linalg.eigvalsh(scaled)
    usable &= eigenvalues[..., 0] > p * np.finfo(np.float64).eps * eigenvalues[..., -1]
    scaled[~usable] = np.eye(p)
    inverted = np.linalg.inv(scaled) * factor[..., :, np.newaxis] * factor[..., np.newaxis, :]
    result[usable] = inverted[usable]
    return result


def informations(batch, weights, means, variances):
    """``(score, louis)``: the two informations of every dataset, arrays of shape
    (n_datasets, 3 K, 3 K) over the full parameters in standardised units, at the
    parameters given in the data's units (arrays of shape (n_datasets, K))."""
    n_datasets, n_components = means.shape
    score = np.empty((n_datasets, 3 * n_components, 3 * n_components))
    louis = np.empty_like(score)
    observed_information(
        batch.values,
        batch.offsets,
        batch.kernel_weights,
        batch.center,
        batch.scale,
        np.ascontiguousarray(weights, dtype=np.float64),
        np.ascontiguousarray(_layout.means_to_standard(batch.center, batch.scale, means)),
        np.ascontiguousarray(_layout.variances_to_standard(batch.scale, variances)),
        score,
        louis,
    )
    return score, louis


def standard_errors(
    batch, method, weights, means, variances, fixed, equal_variance, usable
) -> StandardErrors:
    """:class:`StandardErrors` of the fits ``weights, means, variances`` (arrays of shape
    (n_datasets, K) in the data's units) of ``batch``'s datasets (standardised).

    ``fixed`` holds three boolean arrays of shape (n_datasets, K), the fixed weights, means
    and variances of the components as ordered in ``means`` (sorting by mean moves them);
    ``usable`` (n_datasets,) is False for a fit that failed, whose standard errors are NaN.
    """
    n_datasets, n_components = means.shape
    score, louis = informations(batch, weights, means, variances)
    information = louis if method == "louis" else score
    scale = batch.scale[:, np.newaxis]
    se = np.full((n_datasets, 3 * n_components), np.nan)
    # Datasets share a projection unless sorting moved their fixed components: one
    # batched projection and inversion per pattern of fixed parameters.
    patterns, which = np.unique(np.concatenate(fixed, axis=1), axis=0, return_inverse=True)
    which = which.reshape(-1)
    for index, pattern in enumerate(patterns):
        fixed_weights, fixed_means, fixed_variances = pattern.reshape(3, n_components)
        matrix, pattern_names, kinds = projection(
            fixed_weights, fixed_means, fixed_variances, equal_variance
        )
        if index == 0:
            n_parameters = kinds.size
            covariance = np.empty((n_datasets, n_parameters, n_parameters))
            names = np.empty((n_datasets, n_parameters), dtype="<U32")
        rows = np.flatnonzero(which == index)
        inverted = inverse(matrix.T @ information[rows] @ matrix)
        inverted[~usable[rows]] = np.nan
        determined = np.flatnonzero((matrix != 0.0).any(axis=1))
        full = np.einsum("ap,npq,aq->na", matrix[determined], inverted, matrix[determined])
        se[rows[:, np.newaxis], determined] = np.sqrt(full)
        factor = scale[rows] ** kinds
        # One factor at a time: the product of two may overflow, and inf times a zero
        # entry would be NaN. Entries beyond float64 (variances' squares for data scaled
        # by 1e140) are inf or 0, as documented; the standard errors stay finite.
        with np.errstate(over="ignore", under="ignore"):
            covariance[rows] = inverted * factor[:, :, np.newaxis] * factor[:, np.newaxis, :]
        names[rows] = pattern_names
    se *= scale ** np.repeat(np.arange(3), n_components)
    weights_se, means_se, variances_se = np.split(se, 3, axis=1)
    return StandardErrors(
        method=method,
        weights=weights_se,
        means=means_se,
        variances=variances_se,
        covariance=covariance,
        names=names,
    )

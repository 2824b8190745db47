"""
EM by hand, then by fastem
==========================

The exercise fastem grew from: fit a mixture of two one-dimensional Gaussians to 40
points by Expectation-Maximization, writing the E-step and the M-step in a few lines of
NumPy. Each step is checked against :mod:`fastem.reference`, the plain NumPy
implementation every fast path of fastem is tested against; then the whole fit is run by
:func:`fastem.reference.fit` and by :func:`fastem.fit` from the same starting values, and
all of them reach the same maximum.
"""

# %%
# The data
# --------
#
# The true mixture has weights 0.4 and 0.6, means -2.5 and 3.5 and both variances 4:
# two components three standard deviations apart. :func:`fastem.simulate` draws 40
# points from it, with the component each point came from (which EM does not see).

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

import fastem
from fastem import reference

true_weights = np.array([0.4, 0.6])
true_means = np.array([-2.5, 3.5])
true_variances = np.array([4.0, 4.0])

x, labels = fastem.simulate(true_weights, true_means, true_variances, n_samples=40, random_state=1)
print(
    "points:",
    x.size,
    " from component 1:",
    np.sum(labels == 0),
    " from component 2:",
    np.sum(labels == 1),
)
print(np.round(np.sort(x), 2))

# %%
# The E-step
# ----------
#
# Given the current weights :math:`w_k`, means :math:`\mu_k` and variances
# :math:`\sigma^2_k`, the responsibility of component :math:`k` for point :math:`x_i` is
# the posterior probability that the point came from it:
#
# .. math::
#
#    r_{ik} = \frac{w_k \, N(x_i \mid \mu_k, \sigma^2_k)}
#                  {\sum_j w_j \, N(x_i \mid \mu_j, \sigma^2_j)}.
#
# Written as it stands, the densities of a point far from every component underflow to 0
# and the ratio becomes 0/0. In log space it cannot: take the log of each numerator and
# subtract their ``logsumexp``, which factors out the largest term before exponentiating.
# The same ``logsumexp``, summed over the points, is the log-likelihood.
#
# The starting values are the exercise's: weights 0.5 and 0.5, means -0.5 and 0.5, unit
# variances.


def log_joint(x, weights, means, variances):
    """log w_k + log N(x_i | mu_k, var_k), shape (n_points, n_components)."""
    d = x[:, None] - means
    return np.log(weights) - 0.5 * np.log(2 * np.pi * variances) - 0.5 * d**2 / variances


def e_step(x, weights, means, variances):
    log_p = log_joint(x, weights, means, variances)
    return np.exp(log_p - logsumexp(log_p, axis=1, keepdims=True))


def log_likelihood(x, weights, means, variances):
    return logsumexp(log_joint(x, weights, means, variances), axis=1).sum()


start = (np.array([0.5, 0.5]), np.array([-0.5, 0.5]), np.array([1.0, 1.0]))
resp = e_step(x, *start)
print("responsibilities of the first five points:\n", np.round(resp[:5], 4))
print("each row sums to 1:", np.allclose(resp.sum(axis=1), 1.0))
print(
    "largest difference from fastem.reference.e_step:",
    np.abs(resp - reference.e_step(x, *start)).max(),
)
assert np.allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-14)
assert np.allclose(resp, reference.e_step(x, *start), rtol=0, atol=1e-15)

# %%
# The M-step
# ----------
#
# Given the responsibilities, the parameters that maximise the expected complete-data
# log-likelihood have closed forms: with :math:`n_k = \sum_i r_{ik}` the expected number
# of points of component :math:`k` among the :math:`n`,
#
# .. math::
#
#    w_k = \frac{n_k}{n}, \qquad
#    \mu_k = \frac{1}{n_k} \sum_i r_{ik} x_i, \qquad
#    \sigma^2_k = \frac{1}{n_k} \sum_i r_{ik} (x_i - \mu_k)^2.
#
# Each variance is taken around its own component's new mean.


def m_step(x, resp):
    n_k = resp.sum(axis=0)
    means = resp.T @ x / n_k
    variances = (resp * (x[:, None] - means) ** 2).sum(axis=0) / n_k
    return n_k / x.size, means, variances


new = m_step(x, resp)
ref = reference.m_step(x, resp)
for name, mine, theirs in zip(("weights", "means", "variances"), new, ref):
    print(f"{name:9s} by hand {np.round(mine, 6)}   fastem.reference.m_step {np.round(theirs, 6)}")
    assert np.allclose(mine, theirs, rtol=1e-14, atol=0)

# %%
# The whole fit, by hand
# ----------------------
#
# EM alternates the two steps. Each iteration cannot lower the log-likelihood (that is
# EM's defining property: the M-step maximises a lower bound that touches the
# log-likelihood at the current parameters), so recording it after every iteration is
# the standard test of an implementation. The loop below stops when no parameter moves
# by more than ``1e-10`` in an iteration (a small gain of the log-likelihood is a poorer
# test: near a maximum the gain shrinks as the square of the parameters' distance to it).

params = start
loglik = [log_likelihood(x, *params)]
for _ in range(10_000):
    previous = np.concatenate(params)
    params = m_step(x, e_step(x, *params))
    loglik.append(log_likelihood(x, *params))
    if np.abs(np.concatenate(params) - previous).max() < 1e-10:
        break
loglik = np.array(loglik)
hand_weights, hand_means, hand_variances = params
print("iterations:", loglik.size - 1)
print("log-likelihood: start", round(loglik[0], 4), " end", round(loglik[-1], 6))
print("smallest change between iterations:", np.diff(loglik).min())
print(
    "weights",
    np.round(hand_weights, 4),
    " means",
    np.round(hand_means, 4),
    " variances",
    np.round(hand_variances, 4),
)
# The log-likelihood never decreases, up to the rounding of a sum over 40 points.
assert np.all(np.diff(loglik) >= -1e-13 * np.abs(loglik[1:]))

# %%
# The log-likelihood never decreases. In the last iterations its gains fall below the
# rounding error of a sum over 40 points, so the smallest change printed above may be a
# few units of the last digit either side of 0, which is rounding, not a decrease (the
# check allows ``1e-13`` relative).
#
# On the left, the log-likelihood after each iteration from the first on (the start,
# far below, is left out): it climbs fast while the two components move apart from their
# starts near 0, then creeps up to its limit. On the right, its distance to the final
# value on a log scale: once near the maximum it shrinks by the same factor at every
# iteration, a straight line. That is EM's linear convergence; the factor (printed
# below, and constant to 1% over iterations 40 to 60) is the square of EM's rate, set by
# the fraction of information the unobserved labels hold. Components that overlap more
# make it closer to 1 and EM slower.

gap = loglik[-1] - loglik[:-1]
ratio = gap[41:62] / gap[40:61]  # iteration t + 1 against t, for t = 40 ... 60
print("gap ratio at iterations 40, 50, 60:", np.round(ratio[[0, 10, 20]], 4))
assert np.ptp(ratio) < 0.01 * ratio.mean()

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.plot(np.arange(1, loglik.size), loglik[1:], marker=".")
left.set_xlabel("iteration")
left.set_ylabel("log-likelihood")
left.set_title("log-likelihood after each iteration")
shown = gap > 0
right.semilogy(np.arange(gap.size)[shown], gap[shown], marker=".")
right.set_xlabel("iteration")
right.set_ylabel("final log-likelihood minus the current one")
right.set_title("distance to the maximum")
fig.suptitle("EM by hand, from the exercise's starting values")
fig.tight_layout()

# %%
# The same fit by fastem.reference.fit and by fastem.fit
# ------------------------------------------------------
#
# :func:`fastem.reference.fit` runs the same iterations, stopping when the mean
# log-likelihood per point changes by less than ``tol`` (fastem's "loglik" rule). Given
# ``tol=0`` and the hand loop's number of iterations it must retrace the hand loop: its
# ``trace`` and the hand-written log-likelihoods agree to rounding.

n_iter = loglik.size - 1
ref_fit = reference.fit(x, *start, max_iter=n_iter, tol=0.0)
print("largest difference of the traces:", np.abs(ref_fit.trace - loglik).max())
assert ref_fit.n_iter == n_iter
assert np.allclose(ref_fit.trace, loglik, rtol=1e-13, atol=0)

# %%
# :func:`fastem.fit` takes the starting values as ``weights_init``, ``means_init`` and
# ``variances_init`` (used as given; ``init=`` would choose those not given). With
# ``algorithm="em"`` it runs plain EM, the same map as above, in its compiled kernels;
# with ``tol=0`` it runs exactly ``max_iter`` iterations. Same start, same iterations,
# same arithmetic up to the order of the sums: the results agree to rounding, checked
# here to ``1e-10`` relative (about a million times the double-precision epsilon, room
# for the different order of summation over 40 points and a few hundred iterations).

start_kwargs = dict(weights_init=start[0], means_init=start[1], variances_init=start[2])
kernel = fastem.fit(x, 2, **start_kwargs, algorithm="em", tol=0, max_iter=n_iter)
print(kernel)
print("log-likelihood  by hand", loglik[-1], "  fastem.fit", kernel.log_likelihood)
for name, mine in zip(("weights", "means", "variances"), params):
    theirs = getattr(kernel, name)
    print(
        f"{name:9s} largest relative difference {np.max(np.abs(mine - theirs) / np.abs(mine)):.1e}"
    )
    assert np.allclose(theirs, mine, rtol=1e-10, atol=0)
assert kernel.n_iter == n_iter
assert np.isclose(kernel.log_likelihood, loglik[-1], rtol=1e-12, atol=0)

# %%
# fastem's default is not plain EM but SQUAREM, an extrapolation of EM steps that
# reaches the same maxima in far fewer passes over the data, stopped when the
# parameters stop moving (``tol=1e-9`` in standardised units). It stops in fewer
# iterations, at a slightly different point near the maximum: its parameters agree with
# the hand loop's to ``1e-6`` relative, the accuracy fastem's default stopping rule is
# set for, and the log-likelihoods, flat at a maximum, to ``1e-12`` relative.

default = fastem.fit(x, 2, **start_kwargs)
print(
    "SQUAREM: iterations",
    default.n_iter,
    " EM maps",
    default.n_fpeval,
    "  hand EM: iterations",
    n_iter,
)
print("log-likelihood  by hand", loglik[-1], "  fastem.fit (SQUAREM)", default.log_likelihood)
for name, mine in zip(("weights", "means", "variances"), params):
    theirs = getattr(default, name)
    print(
        f"{name:9s} largest relative difference {np.max(np.abs(mine - theirs) / np.abs(mine)):.1e}"
    )
    assert np.allclose(theirs, mine, rtol=1e-6, atol=0)
assert np.isclose(default.log_likelihood, loglik[-1], rtol=1e-12, atol=0)
assert default.n_fpeval < n_iter

# %%
# The data and the two mixtures
# -----------------------------
#
# The histogram of the 40 points, the true mixture's density, and the fitted mixture's
# with its two weighted components :math:`w_k N(x \mid \mu_k, \sigma^2_k)`, which add up
# to it. With 40 points the maximum-likelihood fit stands far from the true mixture: that
# is sampling variability (another 40 points would give another fit), not a fault of EM,
# and the tutorial :ref:`A Monte Carlo study of EM
# <sphx_glr_auto_tutorials_plot_02_monte_carlo_study.py>` measures it over thousands of
# datasets.

grid = np.linspace(x.min() - 3, x.max() + 3, 400)


def density(grid, weights, means, variances):
    return weights * norm.pdf(grid[:, None], means, np.sqrt(variances))


fig, ax = plt.subplots(figsize=(7, 4))
ax.hist(x, bins=14, density=True, color="0.85", edgecolor="0.6", label="40 points")
ax.plot(
    grid,
    density(grid, true_weights, true_means, true_variances).sum(axis=1),
    "k--",
    label="true mixture",
)
fitted = density(grid, default.weights, default.means, default.variances)
ax.plot(grid, fitted.sum(axis=1), "C0", lw=2, label="fitted mixture")
ax.plot(grid, fitted[:, 0], "C1", label="fitted component 1 (weighted)")
ax.plot(grid, fitted[:, 1], "C2", label="fitted component 2 (weighted)")
ax.plot(x, np.full(x.size, -0.004), "|", color="k", markersize=8)
ax.set_xlabel("x")
ax.set_ylabel("density")
ax.set_title("40 points, the true mixture and the EM fit")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# The worked example: one E-step and one M-step on five points
# ------------------------------------------------------------
#
# The exercise came with a worked update on five points, ``0.2, -0.9, -1, 1.2, 1.8``,
# from means -3 and 2, variances 4 and weights 0.5 each. :func:`fastem.reference.e_step`
# gives its posterior probabilities (a row per point, a column per cluster), and
# :func:`fastem.reference.m_step` the update. The example computed the second cluster's
# variance around the *first* cluster's new mean; the M-step takes each variance around
# its own component's mean, so the second variance printed here differs from the
# example's, while the weights, the means and the first variance are its numbers.

points = np.array([0.2, -0.9, -1.0, 1.2, 1.8])
example = (np.array([0.5, 0.5]), np.array([-3.0, 2.0]), np.array([4.0, 4.0]))
posterior = reference.e_step(points, *example)
print("posterior probabilities, cluster 1:", posterior[:, 0])
print("posterior probabilities, cluster 2:", posterior[:, 1])
w, mu, var = reference.m_step(points, posterior)
print("new weights", w, "\nnew means  ", mu, "\nnew variances", var)
# The example's printed posteriors, weight, means and first variance.
assert np.allclose(
    posterior[:, 0], [0.29421497, 0.62245933, 0.65135486, 0.10669059, 0.05340333], atol=5e-9
)
assert np.allclose(
    [w[0], mu[0], mu[1], var[0]],
    [0.3456246183552747, -0.5373289474340418, 0.6811290963725771, 0.5757859076870627],
    rtol=1e-12,
)
# Its second variance, around the first cluster's mean, and the M-step's, around its own.
around_first = np.sum(posterior[:, 1] * (points - mu[0]) ** 2) / posterior[:, 1].sum()
print("second variance around the first mean (the example's):", around_first)
assert np.isclose(around_first, 2.5598879676788537, rtol=1e-12)
assert var[1] < around_first

# %%
# Where next
# ----------
#
# One dataset and one start is the smallest case. :func:`fastem.fit` takes thousands of
# datasets at once and many random starts for each: the next tutorials run a Monte
# Carlo study of EM on this same mixture, and a search with many restarts on data where
# EM has several maxima. :doc:`/guide/fitting` describes every option of the fit.

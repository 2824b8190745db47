"""
Standard errors: information and bootstrap
==========================================

A fitted mixture's parameters come with two kinds of standard error in fastem: those of
the observed information matrix, computed with the fit (``se="louis"`` or
``se="score"`` in :func:`fastem.fit`, giving a :class:`fastem.StandardErrors`), and
those of the bootstrap, :func:`fastem.bootstrap`, which refits the mixture to replicates
of the data. This tutorial computes both on Old Faithful's waiting times, checks the
information against a numerical second derivative of the log-likelihood, and then shows
a small sample where the two disagree, and why. The :doc:`guide page
<../guide/standard-errors>` has the details.
"""

# %%
# Standard errors from the observed information
# ---------------------------------------------
#
# ``se="louis"`` adds ``standard_errors`` to the :class:`fastem.FitResult`: the inverse
# of the observed information (the negative Hessian of the log-likelihood, computed
# exactly by Louis's 1982 method) is the covariance of the estimates. Standard errors
# are those of the returned parameters, so the fit is run to a tight stopping rule
# (``tol=1e-10``) to stand at the maximum in every digit.
#
# The free parameters are mixtools' and mixsmsn's: the weights but the last (which the
# others determine, and gets its standard error by the delta method), the means, and the
# **variances** (not the standard deviations). ``names`` lists them in the order of the
# rows of ``covariance``.

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

import fastem

waiting = np.loadtxt(Path("data/faithful.csv"), skiprows=1, delimiter=",")[:, 1]
options = dict(n_init=5, random_state=0, stop="parameter", tol=1e-10)
fit = fastem.fit(waiting, 2, **options, se="louis")
louis = fit.standard_errors
print(fit.summary())
print(louis)
print("names:", louis.names.tolist())
print("covariance:\n", np.array2string(louis.covariance, precision=4, suppress_small=True))

# %%
# ``se="score"`` estimates the same information by the outer product of the per-point
# scores (first derivatives only; Basford et al. 1997). At the maximum both estimate the
# same matrix, but the outer product is the less accurate of the two: compare the columns.

score = fastem.fit(waiting, 2, **options, se="score").standard_errors
rows = [
    ("weight 1", 0, "weights"),
    ("mean 1", 0, "means"),
    ("mean 2", 1, "means"),
    ("variance 1", 0, "variances"),
    ("variance 2", 1, "variances"),
]
print(f"{'parameter':12}{'estimate':>10}{'louis':>9}{'score':>9}{'score/louis':>13}")
for name, k, field in rows:
    a, b = getattr(louis, field)[k], getattr(score, field)[k]
    print(f"{name:12}{getattr(fit, field)[k]:10.4f}{a:9.4f}{b:9.4f}{b / a:13.3f}")

# %%
# An independent check: the numerical Hessian
# -------------------------------------------
#
# The log-likelihood of two components, written in NumPy with the parameters in the order
# of ``names``, is differentiated twice by central differences; the inverse of its
# negative Hessian is the covariance of the estimates. Each step is a small fraction of
# the parameter's own size (1e-4 of it), and the truncation error of central differences
# shrinks as the step's square, so the two should agree to many digits: the check below
# requires every standard error to agree to 1e-5 relative, and every entry of the two
# covariance matrices to 1e-5 of the product of the two parameters' standard errors.


def log_likelihood(theta, x=waiting):
    """The log-likelihood of (weight 1, mean 1, mean 2, variance 1, variance 2)."""
    w1, m1, m2, v1, v2 = theta
    weights, means, variances = np.array([w1, 1 - w1]), np.array([m1, m2]), np.array([v1, v2])
    d = x[:, None] - means
    log_joint = np.log(weights) - 0.5 * np.log(2 * np.pi * variances) - 0.5 * d**2 / variances
    return logsumexp(log_joint, axis=1).sum()


def numerical_hessian(f, theta, steps):
    """Central second differences of ``f`` at ``theta``, step ``steps[i]`` along axis i."""
    n = theta.size
    hessian = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * steps[i], np.eye(n)[j] * steps[j]
            value = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            )
            hessian[i, j] = hessian[j, i] = value / (4 * steps[i] * steps[j])
    return hessian


theta = np.array([fit.weights[0], *fit.means, *fit.variances])
hessian = numerical_hessian(log_likelihood, theta, steps=1e-4 * np.abs(theta))
covariance = np.linalg.inv(-hessian)
numerical = np.sqrt(np.diag(covariance))
fastem_se = np.array([louis.weights[0], *louis.means, *louis.variances])
relative = np.abs(numerical / fastem_se - 1)
for name, a, b, r in zip(louis.names, fastem_se, numerical, relative):
    print(f"{name:12} louis {a:.6f}   numerical {b:.6f}   relative difference {r:.1e}")
scaled = np.abs(covariance - louis.covariance) / np.outer(numerical, numerical)
print(f"largest difference of the covariance matrices, in units of the SEs: {scaled.max():.1e}")
# The independent check: Louis's standard errors are the numerical Hessian's to 1e-5.
assert relative.max() < 1e-5
assert scaled.max() < 1e-5

# %%
# Bootstrap standard errors and intervals
# ---------------------------------------
#
# :func:`fastem.bootstrap` fits the data, draws ``n_boot`` replicates per dataset, refits
# each (from the fit to the data and 5 random restarts), matches each replicate's
# components to the fit's, and summarises every parameter by the standard deviation of
# its replicates and a percentile interval. ``kind="parametric"`` draws the replicates
# from the fitted mixture, ``"nonparametric"`` resamples the data with replacement, and
# ``"weighted"`` reweights the data (mclust's ``MclustBootstrap`` types ``pb``, ``bs`` and
# ``wlbs``).
#
# This page uses 199 replicates to keep the build quick. A standard error from ``B``
# replicates has a Monte Carlo error of about ``1 / sqrt(2 (B - 1))`` of itself, and a
# 95% percentile interval's ends need many replicates in the tails: use the default 999
# (or more) for anything published.

n_boot = 199
boot = {
    kind: fastem.bootstrap(waiting, 2, n_boot=n_boot, kind=kind)
    for kind in ("parametric", "nonparametric")
}
print(boot["parametric"])
print(repr(boot["nonparametric"]))

# %%
# Side by side: the information's standard errors and the two bootstraps'. On a few
# hundred points whose components are well apart, the assertion checks that each
# bootstrap standard error is within three Monte Carlo errors of the Louis information's:
# the ratio of the two is within ``3 / sqrt(2 (B - 1))`` of 1. A single row may differ by
# more than one such error.

mc_error = 1 / np.sqrt(2 * (n_boot - 1))
print(f"{'parameter':12}{'louis':>9}{'score':>9}{'pb':>9}{'bs':>9}")
for name, k, field in rows:
    pb = getattr(boot["parametric"].standard_errors, field)[k]
    bs = getattr(boot["nonparametric"].standard_errors, field)[k]
    info = getattr(louis, field)[k]
    print(f"{name:12}{info:9.4f}{getattr(score, field)[k]:9.4f}{pb:9.4f}{bs:9.4f}")
    assert abs(pb / info - 1) < 3 * mc_error and abs(bs / info - 1) < 3 * mc_error
print(f"the bootstrap's relative Monte Carlo error with {n_boot} replicates: about {mc_error:.3f}")
for kind, result in boot.items():
    print(
        kind,
        "replicates left out (failed, spurious, ambiguous):",
        result.n_failed,
        result.n_spurious,
        result.n_ambiguous,
    )

# %%
# The replicates and the normal approximation
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
#
# The information's standard error describes a normal distribution around the estimate.
# The bootstrap keeps every replicate's estimates (``means``, ``variances``, ``weights``,
# of shape ``(n_boot, K)``, matched to the fit's components), so the two can be compared
# as distributions. For the first mean the normal curve follows the histogram; the first
# variance's replicates are skewed to the right, as a variance's estimates are, and its
# percentile interval reaches farther above the estimate than below it.


def draw_replicates(ax, replicates, label, estimate, se, grid):
    """The replicates' histogram, the normal density the information's standard error
    gives (on ``grid``), and the estimate."""
    hist_style = dict(bins=25, density=True, color="0.8", edgecolor="0.5", lw=0.5)
    ax.hist(replicates, label=label, **hist_style)
    ax.plot(grid, norm.pdf(grid, estimate, se), "C0", lw=2, label="normal, information SE")
    ax.axvline(estimate, color="k", lw=1, label="estimate")
    ax.set_ylabel("density")


pb = boot["parametric"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
for ax, field, label in zip(axes, ("means", "variances"), ("mean 1", "variance 1")):
    replicates = getattr(pb, field)[:, 0]
    estimate, se = getattr(fit, field)[0], getattr(louis, field)[0]
    grid = np.linspace(replicates.min(), replicates.max(), 200)
    draw_replicates(ax, replicates, f"{n_boot} parametric replicates", estimate, se, grid)
    for end in (getattr(pb.lower, field)[0], getattr(pb.upper, field)[0]):
        ax.axvline(end, color="C3", ls="--", lw=1)
    ax.set_xlabel(f"{label} (waiting time, minutes{'' if field == 'means' else ' squared'})")
    ax.set_title(
        f"Waiting times: bootstrap replicates of {label}\n(red dashes: 95% percentile interval)"
    )
    ax.legend(fontsize=8, frameon=False)
v_estimate, v_lower, v_upper = fit.variances[0], pb.lower.variances[0], pb.upper.variances[0]
print(
    f"variance 1: estimate {v_estimate:.2f}, percentile interval [{v_lower:.2f}, {v_upper:.2f}],"
    f" {v_estimate - v_lower:.2f} below and {v_upper - v_estimate:.2f} above"
)
assert v_upper - v_estimate > v_estimate - v_lower

# %%
# When the two disagree
# ---------------------
#
# The information's standard errors are a large-sample approximation: the log-likelihood
# near its maximum treated as a quadratic, the estimates as normal. It fails where the
# sample is small for the parameter, and most of all near a boundary: a small weight
# (near 0) or the variance of a component that stands on few points (near 0 too). Here
# is one sample of 50 points from a mixture whose second component has weight 0.15,
# four standard deviations from the first.

x, _ = fastem.simulate([0.85, 0.15], [0.0, 4.0], [1.0, 1.0], n_samples=50, random_state=0)
small = fastem.fit(x, 2, n_init="auto", random_state=0, tol=1e-10, se="louis")
print(small.summary())
assert small.settled
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    small_boot = fastem.bootstrap(x, 2, n_boot=n_boot, kind="parametric")
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")
print(repr(small_boot))
# The bootstrap's own fit to the data (restarts until settled) is the one above.
np.testing.assert_allclose(small_boot.fit.means, small.means, rtol=1e-6)

# %%
# The second component has only a few points, so its replicates often cannot tell its
# components apart: those whose components match two labellings of the fit about equally
# well (``ambiguous``) are left out of the bootstrap's standard errors and intervals,
# with spurious and failed ones, and a :class:`fastem.DegenerateFitWarning` says so
# when they are more than 5% of a dataset's replicates. The intervals below then describe
# the mixture as labelled, not its whole uncertainty.
#
# The Wald interval of the information, estimate plus or minus 1.96 standard errors, is
# symmetric by construction, and for the second variance it reaches below 0, which no
# variance can. The percentile interval of the bootstrap stays above 0 and leans to the
# right, as the replicates do.

left_out = small_boot.n_failed + small_boot.n_spurious + small_boot.n_ambiguous
print("replicates left out:", left_out, "of", n_boot)
assert left_out > 0.05 * n_boot and len(caught) == 1
assert issubclass(caught[0].category, fastem.DegenerateFitWarning)
se2 = small.standard_errors
print(f"{'parameter':12}{'estimate':>9}{'louis':>8}{'pb':>8}", end="")
print(f"   {'Wald interval':>18}   {'percentile interval':>20}")
for name, field in (("weight 2", "weights"), ("mean 2", "means"), ("variance 2", "variances")):
    estimate, info = getattr(small, field)[1], getattr(se2, field)[1]
    low, high = getattr(small_boot.lower, field)[1], getattr(small_boot.upper, field)[1]
    print(
        f"{name:12}{estimate:9.3f}{info:8.3f}{getattr(small_boot.standard_errors, field)[1]:8.3f}"
        f"   [{estimate - 1.96 * info:7.3f}, {estimate + 1.96 * info:7.3f}]"
        f"   [{low:7.3f}, {high:7.3f}]"
    )
v2, v2_se = small.variances[1], se2.variances[1]
assert v2 - 1.96 * v2_se < 0 < small_boot.lower.variances[1]
assert small_boot.upper.variances[1] - v2 > v2 - small_boot.lower.variances[1]

# %%
# The replicates of the second component's weight and variance, with the normal curves of
# the information's standard errors: the histograms are skewed, and the curves give
# weight to impossible values below 0 (shaded).

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
kept = ~small_boot.ambiguous & (small_boot.status < fastem.Status.SPURIOUS)
for ax, field, label in zip(axes, ("weights", "variances"), ("weight 2", "variance 2")):
    replicates = getattr(small_boot, field)[kept, 1]
    estimate, se = getattr(small, field)[1], getattr(se2, field)[1]
    grid = np.linspace(estimate - 3.5 * se, max(estimate + 3.5 * se, replicates.max()), 300)
    draw_replicates(ax, replicates, f"{replicates.size} replicates kept", estimate, se, grid)
    below = grid[grid < 0]
    ax.fill_between(below, norm.pdf(below, estimate, se), color="C0", alpha=0.3)
    ax.set_xlabel(label)
    ax.set_title(f"50 points, small second component: {label}")
    ax.legend(fontsize=8, frameon=False)
assert kept.sum() == n_boot - left_out

# %%
# What to take from it: with a few hundred points and components well apart, the
# information's standard errors are quick (one pass over the data, for a whole batch of
# datasets) and agree with the bootstrap. With few points per component, weights near 0
# or variances near 0, prefer the bootstrap's percentile intervals, read its counts of
# replicates left out, and run 999 replicates or more.

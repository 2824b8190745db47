"""
Binned and censored data
========================

Data often arrive as counts in bins (a histogram, a frequency table) or with values
known only to lie beyond a limit (a detection limit, a study that ended). Treating each
bin's centre as a weighted point biases the fit: every observation is moved to the
centre of its bin, which adds about ``width^2 / 12`` to each component's variance
(Sheppard's correction) and blurs components narrower than a few bins.
:class:`fastem.Intervals` fits the likelihood of the intervals themselves, by EM for
grouped data (McLachlan & Jones 1988).
"""

# %%
# Points, and their histogram
# ---------------------------
#
# 5,000 points from a mixture of a narrow component (standard deviation 0.5) and a wide
# one, binned in bins of width 1: twice the narrow component's standard deviation.

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

import fastem

true_weights = np.array([0.3, 0.7])
true_means = np.array([-2.0, 2.0])
true_variances = np.array([0.25, 2.25])
x, _ = fastem.simulate(true_weights, true_means, true_variances, n_samples=5000, random_state=3)
edges = np.arange(-8.0, 10.0, 1.0)
counts, _ = np.histogram(x, edges)
print("counts per bin:", counts)

# %%
# Three fits
# ----------
#
# The fit of the points themselves is the yardstick. The fit of the bins' centres
# weighted by their counts is what one gets by handing a histogram to a fit of points;
# the fit of :class:`fastem.Intervals` uses the same counts with their true likelihood,
# ``sum_i c_i log sum_k w_k (Phi_k(b_i) - Phi_k(a_i))``.

options = dict(n_init=10, random_state=0, stop="parameter", tol=1e-10)
points = fastem.fit(x, 2, **options)
# Among the centres' restarts, the best that did not collapse (see below).
centres = fastem.fit(
    0.5 * (edges[:-1] + edges[1:]), 2, sample_weight=counts, skip_degenerate=True, **options
)
intervals = fastem.fit(fastem.Intervals.from_bins(edges, counts), 2, **options)

print(f"{'':>10} {'weights':>16} {'means':>16} {'variances':>16}")
for name, fit in [("points", points), ("centres", centres), ("intervals", intervals)]:
    print(
        f"{name:>10} {np.array2string(fit.weights, precision=3):>16} "
        f"{np.array2string(fit.means, precision=3):>16} "
        f"{np.array2string(fit.variances, precision=3):>16}"
    )

# %%
# One dataset mixes the bias with sampling noise. Over 200 datasets of 1,000 points, the
# average error of the narrow component's variance against each dataset's fit of its
# points is the bias of each way of fitting the bins: the centres add about ``1 / 12``
# of the squared width (more when bins are this coarse), the intervals nothing beyond
# their Monte Carlo error (MCSE).

many, _ = fastem.simulate(
    true_weights, true_means, true_variances, n_samples=1000, n_datasets=200, random_state=4
)
binned = [np.histogram(row, edges)[0] for row in many]
batch = dict(options, warn=False)
fits = {
    "points": fastem.fit(many, 2, **batch),
    "centres": fastem.fit(
        np.tile(0.5 * (edges[:-1] + edges[1:]), (200, 1)), 2, sample_weight=binned, **batch
    ),
    "intervals": fastem.fit([fastem.Intervals.from_bins(edges, c) for c in binned], 2, **batch),
}
# Bin centres are few distinct values: a component can sit on one of them with a variance
# that collapses to fastem's floor, where the likelihood of points grows without bound.
# The likelihood of intervals is bounded (each term is a probability), so none collapses.
collapsed = fits["centres"].status == fastem.Status.VARIANCE_FLOORED
print(f"fits of the centres collapsed onto one centre: {np.count_nonzero(collapsed)} of 200")
assert np.all(fits["intervals"].status == fastem.Status.CONVERGED)
bias = {}
for name in ("centres", "intervals"):
    kept = ~collapsed if name == "centres" else np.ones(200, dtype=bool)
    error = fits[name].variances[kept, 0] - fits["points"].variances[kept, 0]
    bias[name] = (error.mean(), error.std(ddof=1) / np.sqrt(error.size))
    print(f"{name:>9}: bias of the narrow variance {bias[name][0]:+.4f} (MCSE {bias[name][1]:.4f})")
assert bias["centres"][0] > 0.05 and bias["centres"][0] > 10 * bias["centres"][1]
assert abs(bias["intervals"][0]) < 3 * bias["intervals"][1] + 0.005

# %%
# The log-likelihood of intervals is a sum of log probabilities, not of log densities:
# it does not depend on the data's units, and its BIC takes the total count as ``n``.

print("log-likelihood of the intervals:", round(float(intervals.log_likelihood), 3))
print("BIC:", round(float(intervals.bic()), 3), " n =", float(intervals.n_observations))

# %%
# The fitted densities over the histogram
# ---------------------------------------

grid = np.linspace(-6, 8, 600)


def density(fit):
    return np.sum(fit.weights * norm.pdf(grid[:, None], fit.means, np.sqrt(fit.variances)), axis=1)


fig, ax = plt.subplots(figsize=(7, 3.5))
ax.stairs(counts / counts.sum() / np.diff(edges), edges, color="0.8", fill=True, label="bins")
ax.plot(grid, density(points), "k", lw=2, label="points")
ax.plot(grid, density(centres), "C1--", label="bin centres as points")
ax.plot(grid, density(intervals), "C0:", lw=2, label="intervals")
ax.set_xlabel("x")
ax.set_ylabel("density")
ax.legend(frameon=False)
fig.tight_layout()

# %%
# Censored observations
# ---------------------
#
# Values above a detection limit of 3 are recorded only as "above 3": an interval
# ``[3, inf)``. The values below it are exact: intervals of zero width, which contribute
# their density, as points do. Dropping the censored values biases the wide component
# towards the limit's left (and setting them to the limit makes a spike there, on which a
# component collapses); their interval keeps the information that they lie beyond it.

limit = 3.0
below = x[x < limit]
n_censored = x.size - below.size
censored = fastem.Intervals(
    np.append(below, limit), np.append(below, np.inf), np.append(np.ones(below.size), n_censored)
)
dropped = fastem.fit(below, 2, **options)
fit_censored = fastem.fit(censored, 2, **options)
print(f"{n_censored} of {x.size} values censored at {limit}")
print("wide component's mean: points", np.round(points.means[1], 3))
print("  censored values dropped    ", np.round(dropped.means[1], 3))
print("  censored intervals         ", np.round(fit_censored.means[1], 3))
assert abs(fit_censored.means[1] - points.means[1]) < abs(dropped.means[1] - points.means[1]) / 5

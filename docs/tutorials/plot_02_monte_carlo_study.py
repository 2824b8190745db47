"""
A Monte Carlo study of EM, read with its MCSEs
==============================================

How does EM behave on 40 points from the mixture of the first tutorial, and does it
matter how its starting values are chosen? :func:`fastem.study` answers with a
simulation: it draws thousands of datasets from the known mixture, fits each with every
start strategy, and reports what the fits found. Every number in its table is an
estimate from a finite number of simulated datasets, and comes with its Monte Carlo
standard error (MCSE), the standard error of that estimate. This tutorial runs a small
study and reads its table with the MCSEs: what a measure's interval is, when two
strategies really differ, and how many replications a study needs.
"""

# %%
# The study
# ---------
#
# 4,000 datasets of 40 points from :math:`0.4\,N(-2.5, 4) + 0.6\,N(3.5, 4)`. Each is fitted
# by plain EM with 5 restarts from each of three start strategies: k-means++ (the
# default of :func:`fastem.fit` with several restarts), mixtools' random starts
# ("random"), and emEM (each restart starts where the best of 10 short runs of EM from
# random data points ended; see :func:`fastem.init.emem`). The
# strategies fit the *same* datasets (the comparison is paired), each keeping its best
# restart per dataset.

import matplotlib.pyplot as plt
import numpy as np

import fastem

truth = dict(weights=[0.4, 0.6], means=[-2.5, 3.5], variances=[4.0, 4.0])
strategies = ("kmeans++", "random", "emem")
result = fastem.study(
    **truth,
    n_samples=40,
    replications=4000,
    init=strategies,
    n_init=5,
    random_state=0,
)
table = result.table
print(
    table.select(
        "init",
        "replications",
        "spurious",
        "spurious_mcse",
        "iter_median",
        "iter_median_mcse",
        "at_best",
        "at_best_mcse",
        "mean_1_bias",
        "mean_1_bias_mcse",
        "mean_1_rmse",
        "mean_1_rmse_mcse",
    )
)

# %%
# The columns, each followed by its MCSE (the formulas are those of Morris, White &
# Crowther, 2019, "Using simulation studies to evaluate statistical methods",
# *Statistics in Medicine* 38, Table 6, as R's rsimsum computes them; see
# :mod:`fastem.mcse`):
#
# - ``spurious``: the share of datasets whose chosen fit is a spurious maximum (a
#   component on a few close points, see :class:`fastem.SpuriousRule`) or collapsed. A
#   proportion :math:`p` over :math:`n` datasets has MCSE :math:`\sqrt{p(1-p)/n}`.
# - ``iter_median``: the median number of EM iterations over all restarts; its MCSE is
#   a bootstrap over the datasets.
# - ``at_best``: the share of restarts that ended within ``1e-4`` per point of the best
#   log-likelihood any strategy found for their dataset. The restarts of one dataset are
#   not independent, so each dataset's share is one replicate and the MCSE is the
#   standard error of their mean.
# - ``mean_1_bias`` and ``mean_1_rmse``: the bias and root mean squared error of the
#   first component's mean (true value -2.5), after matching the fitted components to
#   the true ones (:func:`fastem.match_components`). The MCSE of a bias is
#   :math:`\mathrm{SD}/\sqrt{n}`, the standard deviation of the estimates over the root
#   of the number of datasets; that of the RMSE comes from the delta method.
#
# The first check of any such table: its MCSEs are the formulas applied to its own
# numbers. For ``spurious``:

n = int(table["replications"][0])
p = table["spurious"]
print("sqrt(p (1 - p) / n):", np.sqrt(p * (1 - p) / n))
print("spurious_mcse:      ", table["spurious_mcse"])
assert np.allclose(np.sqrt(p * (1 - p) / n), table["spurious_mcse"], rtol=1e-12)

# %%
# Reading one measure: its 95% interval
# -------------------------------------
#
# Had the study been run with another seed, each measure would have come out somewhat
# different; its MCSE is the standard deviation of that spread. With a few thousand
# replications a measure is nearly normally distributed around its true value (the value
# an infinite study would give), so ``estimate +- 1.96 MCSE`` is a 95% interval for that
# value: the precision the study's numbers carry, and how many digits of them to
# report.
#
# For k-means++ starts, the share of spurious fits, the bias of the first mean and the
# share of restarts at the best maximum:

row = list(table["init"]).index("kmeans++")
for measure in ("spurious", "mean_1_bias", "at_best"):
    estimate, mcse = table[measure][row], table[measure + "_mcse"][row]
    low, high = estimate - 1.96 * mcse, estimate + 1.96 * mcse
    print(
        f"{measure:12s} {estimate:.4f}, "
        f"95% interval of the Monte Carlo estimate [{low:.4f}, {high:.4f}]"
    )

# %%
# The interval of ``mean_1_bias`` lies above 0 (checked below): at 40 points, with
# k-means++ starts, EM's estimate of the first mean is biased upward, towards the other
# component, by more than the simulation's own noise. An interval that straddled 0 would
# say only that this study is too small to see a bias, if there is one. (The table's
# other rows show that the bias depends on the start strategy too: the chosen fit, and
# so the estimate, is not the same.)

bias, bias_mcse = table["mean_1_bias"][row], table["mean_1_bias_mcse"][row]
assert bias - 1.96 * bias_mcse > 0

# %%
# Comparing two strategies
# ------------------------
#
# Two strategies differ by more than the simulation's noise when their difference is
# large against the *MCSE of the difference*. Had they fitted independent datasets, that
# would be :math:`\sqrt{\mathrm{MCSE}_a^2 + \mathrm{MCSE}_b^2}`. Here they fitted the same
# datasets, so the difference is a mean of per-dataset differences, and its MCSE is the
# standard deviation of those over :math:`\sqrt{n}`: smaller where the strategies tend to
# succeed and fail on the same datasets. The study's cells keep every replication's fit
# (:class:`fastem.StudyCell`), from which the paired differences are computed.

cells = {cell.init: cell for cell in result.cells}
bad = (fastem.Status.SPURIOUS, fastem.Status.VARIANCE_FLOORED)


def spurious_per_dataset(cell):
    return np.isin(cell.status, bad).astype(float)


def compare(a, b):
    """The difference of the spurious shares of strategies a and b, with both MCSEs."""
    d = spurious_per_dataset(cells[a]) - spurious_per_dataset(cells[b])
    ia, ib = list(table["init"]).index(a), list(table["init"]).index(b)
    difference = table["spurious"][ia] - table["spurious"][ib]
    unpaired = np.hypot(table["spurious_mcse"][ia], table["spurious_mcse"][ib])
    paired = d.std(ddof=1) / np.sqrt(d.size)
    assert np.isclose(d.mean(), difference, rtol=1e-12, atol=1e-15)
    print(
        f"spurious, {a} - {b}: {difference:+.4f}   MCSE paired {paired:.4f}, "
        f"as if unpaired {unpaired:.4f}   difference / paired MCSE {difference / paired:+.1f}"
    )
    return difference, paired, unpaired


diff_emem, paired_emem, _ = compare("emem", "kmeans++")
diff_random, paired_random, unpaired_random = compare("random", "kmeans++")

# %%
# emEM ends at a spurious maximum far more often than k-means++: its difference is many
# times its MCSE (more than 10, checked below). emEM's short runs pick the start with
# the highest log-likelihood, and on 40 points that can be one heading for a component
# on a few close points, whose likelihood is high. The difference between
# random starts and k-means++, by contrast, is within two of its MCSEs: this study
# cannot tell those two strategies apart on this measure. Pairing made that MCSE
# smaller than the unpaired formula's (printed above), as it does when the strategies
# tend to fail on the same datasets.

assert diff_emem > 10 * paired_emem
assert abs(diff_random) < 2 * paired_random
assert paired_random < unpaired_random

# %%
# The same comparison for ``at_best`` goes the other way: emEM's restarts reach the
# best maximum most often (that is what its short runs select for). On these small
# samples the best maximum is sometimes a spurious one, which is why reaching it more
# often and ending spurious more often go together.

at_best = dict(zip(map(str, table["init"]), table["at_best"]))
at_best_mcse = dict(zip(map(str, table["init"]), table["at_best_mcse"]))
for name in strategies:
    print(f"at_best {name:9s} {at_best[name]:.4f} (MCSE {at_best_mcse[name]:.4f})")
assert at_best["emem"] - max(at_best["kmeans++"], at_best["random"]) > 3 * np.hypot(
    at_best_mcse["emem"], max(at_best_mcse["kmeans++"], at_best_mcse["random"])
)

# %%
# A figure of the main measures, with 95% intervals of their Monte Carlo estimates
# (``+- 1.96 MCSE``), and of the first mean's estimates, whose spread is the empirical
# standard error the bias's MCSE is computed from.

fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
positions = np.arange(len(strategies))
for ax, measure, label in zip(
    axes[:2], ("spurious", "at_best"), ("share of spurious fits", "share of restarts at the best")
):
    values = [table[measure][list(table["init"]).index(s)] for s in strategies]
    errors = [1.96 * table[measure + "_mcse"][list(table["init"]).index(s)] for s in strategies]
    ax.errorbar(positions, values, yerr=errors, fmt="o", capsize=4)
    ax.set_xticks(positions, strategies)
    ax.set_xlim(-0.5, len(strategies) - 0.5)
    ax.set_xlabel("start strategy")
    ax.set_ylabel(label)
    ax.set_title(f"{measure}, 95% MC interval", fontsize="medium")
bins = np.linspace(-8, 4, 49)
for name in strategies:
    axes[2].hist(cells[name].means[:, 0], bins=bins, histtype="step", label=name)
axes[2].axvline(-2.5, color="k", ls="--", lw=1)
axes[2].set_xlabel("estimate of the first mean")
axes[2].set_ylabel("datasets")
axes[2].set_title("first mean (true -2.5)", fontsize="medium")
axes[2].legend(fontsize="small")
fig.suptitle("4,000 datasets of 40 points, 5 restarts per strategy")
fig.tight_layout()

# %%
# How many replications?
# ----------------------
#
# An MCSE shrinks as :math:`1/\sqrt{n}`: four times the replications halve it. To plan
# a study, :func:`fastem.plan_replications` turns a target MCSE into a number of
# replications (Morris et al. 2019, section 5.3). For a proportion, ``p (1 - p) /
# target^2``, largest at ``p = 0.5`` when nothing is known about it; for a bias, ``sd^2 /
# target^2`` with ``sd`` the empirical standard error of the estimates, from a pilot
# study like this one (its ``mean_1_empse`` column).

p_spurious = float(table["spurious"][row])
empse = float(table["mean_1_empse"][row])
for target in (0.01, 0.005, 0.002):
    print(
        f"MCSE {target}: a proportion near {p_spurious:.3f} needs "
        f"{fastem.plan_replications(target, proportion=p_spurious)} replications, "
        f"an unknown one {fastem.plan_replications(target, proportion=0.5)}, "
        f"the bias of the first mean {fastem.plan_replications(target, sd=empse)}"
    )

# %%
# The plan for the bias at this study's own MCSE comes back to about the 4,000
# replications run: the two computations are the same formula read both ways.

planned = fastem.plan_replications(float(table["mean_1_bias_mcse"][row]), sd=empse)
print("replications for the bias MCSE this study reached:", planned)
assert abs(planned - n) <= 0.01 * n

# %%
# The figures :mod:`fastem.plots` draws from a study (``fastem.plots.study_figures``),
# the command ``fastem study``, designs of several scenarios, algorithms and stopping
# rules, and the coverage of standard errors are in :doc:`/guide/studies`.

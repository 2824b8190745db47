"""
Many restarts, and how settled a search is
==========================================

EM climbs to a maximum of the likelihood, but which maximum depends on where it starts:
a mixture's likelihood has several local maxima, and with close components and few
points they can be far apart. The remedy is to restart EM from many starting values and
keep the best; the question is how many restarts are enough. This tutorial fits a
dataset with several maxima, looks at every restart, and reads what fastem reports about
the search: how many distinct maxima it met, how often it met the best, and whether it
is *settled*.
"""

# %%
# A dataset with several maxima
# -----------------------------
#
# 60 points from three equally weighted components of unit variance, with means 0, 2.5
# and 5: neighbours are 2.5 standard deviations apart, so the three overlap and the data
# can be split into three groups in several ways. This is dataset 133 of a seeded
# simulation (``dataset_offset`` draws it alone, as it would be drawn in the batch).

import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

import fastem

data, _ = fastem.simulate(
    [1 / 3, 1 / 3, 1 / 3],
    [0.0, 2.5, 5.0],
    [1.0, 1.0, 1.0],
    n_samples=60,
    n_datasets=1,
    random_state=4,
    dataset_offset=133,
)
x = data[0]
print(x.size, "points, from", round(x.min(), 2), "to", round(x.max(), 2))

# %%
# 100 restarts, every one kept
# ----------------------------
#
# ``n_init=100`` runs 100 restarts, here from random data points as means
# (``init="random_from_data"``); ``return_restarts=True`` keeps each restart's final
# parameters besides its log-likelihood and status (which are always kept). Some
# restarts end at a *spurious* maximum, a component on a few close points with a tiny
# variance, whose likelihood can be higher than any real fit's (it grows without bound as
# the variance shrinks); ``skip_degenerate=True`` chooses the best among the regular
# restarts and counts only those in the search's report.

result = fastem.fit(
    x,
    3,
    n_init=100,
    init="random_from_data",
    skip_degenerate=True,
    return_restarts=True,
    random_state=0,
)
regular = result.restart_status < fastem.Status.SPURIOUS
print("regular restarts:", regular.sum(), "  spurious or collapsed:", (~regular).sum())
print(result.summary())

# %%
# The distinct maxima and how often each was reached. Two restarts reached the same
# maximum when their log-likelihoods differ by at most ``1e-6 (1 + |l|)``, the rule the
# search itself uses: a fit run to fastem's stopping rule ends far closer than that to
# its maximum, and two different maxima are rarely that close.

ll = result.restart_log_likelihood
order = np.argsort(-np.where(regular, ll, -np.inf))[: regular.sum()]
maxima = []  # [log-likelihood, restarts that reached it, index of one of them]
for r in order:
    if maxima and maxima[-1][0] - ll[r] <= 1e-6 * (1 + abs(maxima[-1][0])):
        maxima[-1][1] += 1
    else:
        maxima.append([ll[r], 1, r])
print("maximum  log-likelihood  restarts  weights               means                  variances")
for number, (value, count, r) in enumerate(maxima, 1):
    print(
        f"{number:7d}  {value:14.3f}  {count:8d}  {np.round(result.restart_weights[r], 3)!s:20s}  "
        f"{np.round(result.restart_means[r], 2)!s:21s}  {np.round(result.restart_variances[r], 2)}"
    )
counts = np.array([count for _, count, _ in maxima])
assert len(maxima) == result.n_maxima and counts[0] == result.n_at_best
assert np.isclose(maxima[0][0], result.log_likelihood, rtol=1e-12)

# %%
# The best maximum is not the one most restarts reach: another, lower, drew most of
# them (checked below). Its fits split the points differently: the two best maxima put
# their components in different places, as the table shows and the figure below draws.

assert len(maxima) >= 3
assert counts[1] > counts[0]

# %%
# :func:`fastem.restart_summary` condenses the same: the best log-likelihood, the share
# of restarts that reached it, and the number of distinct maxima (with a coarser rule,
# ``1e-4`` per point, which can merge maxima closer than that).

summary = fastem.restart_summary(result)
print(summary)
assert np.isclose(summary.best_log_likelihood, result.log_likelihood, rtol=1e-12)

# %%
# Each restart's final log-likelihood, sorted: the regular restarts form steps, one per
# maximum, the width of a step being how many restarts reached it. Spurious and
# collapsed restarts are drawn apart: their log-likelihoods may lie anywhere, above every
# regular maximum too, since a collapsing component's density grows without bound.

fig, ax = plt.subplots(figsize=(7, 4))
ranked = np.sort(ll[regular])[::-1]
ax.plot(np.arange(1, ranked.size + 1), ranked, "o", ms=4, label="regular restarts")
degenerate = np.sort(ll[~regular & np.isfinite(ll)])[::-1]
print("log-likelihoods of the spurious or collapsed restarts:", np.round(degenerate, 3))
ax.plot(
    np.arange(1, degenerate.size + 1), degenerate, "x", color="C3", label="spurious or collapsed"
)
ax.set_xlabel("restarts, sorted by final log-likelihood")
ax.set_ylabel("final log-likelihood")
ax.set_title("100 restarts of EM on one dataset")
ax.legend()
fig.tight_layout()

# %%
# The data with the fits of the two best maxima.

grid = np.linspace(x.min() - 1.5, x.max() + 1.5, 400)
fig, ax = plt.subplots(figsize=(7, 4))
ax.hist(x, bins=20, density=True, color="0.85", edgecolor="0.6", label="60 points")
for (value, count, r), color, name in zip(maxima[:2], ("C0", "C1"), ("best", "second")):
    components = result.restart_weights[r] * norm.pdf(
        grid[:, None], result.restart_means[r], np.sqrt(result.restart_variances[r])
    )
    ax.plot(
        grid,
        components.sum(axis=1),
        color=color,
        lw=2,
        label=f"{name} maximum, {value:.2f} ({count} restarts)",
    )
    ax.plot(grid, components, color=color, lw=0.8, ls="--")
ax.plot(x, np.full(x.size, -0.01), "|", color="k", markersize=8)
ax.set_xlabel("x")
ax.set_ylabel("density")
ax.set_title("The fits of the two best maxima (dashed: their components)")
ax.set_ylim(top=1.4 * ax.get_ylim()[1])
ax.legend(fontsize="small", loc="upper left")
fig.tight_layout()

# %%
# How settled is a search?
# ------------------------
#
# Restarts cannot prove that no higher maximum exists, but they can say how likely one
# more restart would be to find something new. fastem reports, per dataset:
#
# - ``n_maxima``: the distinct maxima the counted restarts reached;
# - ``n_at_best``: how many reached the best;
# - ``p_unseen``: the Good-Turing estimate of the probability that one more restart
#   finds a maximum not seen yet, the share of restarts whose maximum no other restart
#   reached (Finch, Mendell & Thode 1989);
# - ``settled``: ``n_at_best >= 2`` and ``p_unseen <= 0.05`` (``unseen_tol``).
#
# :func:`fastem.settledness` computes them from any restarts' log-likelihoods. On the
# first 2, 5, 10, ... restarts of the 100, the search's verdict as it grows:

print("restarts  n_maxima  n_at_best  p_unseen  settled  best log-likelihood")
verdicts = {}
for R in (2, 5, 10, 20, 50, 100):
    first = fastem.settledness(ll[np.newaxis, :R], regular[np.newaxis, :R])
    best = np.max(np.where(regular[:R], ll[:R], -np.inf))
    verdicts[R] = (bool(first.settled[0]), best, int(first.n_maxima[0]))
    print(
        f"{R:8d}  {first.n_maxima[0]:8d}  {first.n_at_best[0]:9d}  {first.p_unseen[0]:8.3f}  "
        f"{first.settled[0]!s:7s}  {best:.3f}"
    )
full = fastem.settledness(ll[np.newaxis], regular[np.newaxis])
assert full.n_maxima[0] == result.n_maxima and full.settled[0] == result.settled
assert result.settled

# %%
# Read the table from the top. Two restarts prove nothing (the best reached once is
# never settled). The first 5 and 10 restarts all reached one maximum, so no restart
# found anything the others had not, ``p_unseen`` is 0, and the search called itself
# settled, at a maximum that is *not* the best (checked below). By 20 restarts other
# maxima had turned up, among them the best, and the search was unsettled again; by 50
# it had met the best often enough to settle there.
#
# Settledness is an estimate from the restarts seen, not a proof: a maximum that no
# restart has reached leaves no trace in them. How likely was that miss? If a fraction
# :math:`s` of restarts reach the best maximum, :math:`R` restarts all miss it with
# probability :math:`(1 - s)^R`; with the share of the 100 restarts:

share = counts[0] / regular.sum()
for R in (5, 10, 20, 50):
    print(f"{R:3d} regular restarts miss the best maximum with probability {(1 - share) ** R:.3f}")
for R in (5, 10):  # one maximum, settled, below the best
    assert verdicts[R][2] == 1 and verdicts[R][0]
    assert verdicts[R][1] < maxima[0][0] - 1e-6 * (1 + abs(maxima[0][0]))
assert not verdicts[20][0] and verdicts[20][2] > 1
assert np.isclose(verdicts[20][1], maxima[0][0], rtol=1e-12)
for R in (50, 100):  # settled at the best
    assert verdicts[R][0] and np.isclose(verdicts[R][1], maxima[0][0], rtol=1e-12)

# %%
# No bound on ``p_unseen`` would have caught that miss, as ``p_unseen`` was 0. What
# helps is starts that reach different basins, and enough of them: what the adaptive
# search below provides.

# %%
# The default start strategy and a fixed number of restarts
# ---------------------------------------------------------
#
# :func:`fastem.fit`'s own default is one restart (explicit control), from k-means++
# when it has several. Ten k-means++ restarts on this dataset:

kmeanspp = fastem.fit(x, 3, n_init=10, skip_degenerate=True, random_state=0)
print(kmeanspp)
print(
    f"n_maxima {kmeanspp.n_maxima}, n_at_best {kmeanspp.n_at_best}, "
    f"p_unseen {kmeanspp.p_unseen:.2f}, settled {kmeanspp.settled}"
)
print("below the best of the 100 restarts by", maxima[0][0] - kmeanspp.log_likelihood)

# %%
# k-means++ seeds its means far apart, and its restarts land in the same basin of
# attraction again and again: here nearly all of them agree, on a maximum below the
# best one above (checked below). Agreement among restarts is not proof: the search is
# not settled, because one restart found a maximum no other did, and ``p_unseen`` is
# above ``0.05``. A fixed ``n_init`` reports this in the result's fields, without a
# warning, since the number of restarts was asked for.

assert kmeanspp.log_likelihood < maxima[0][0] - 1e-6 * (1 + abs(maxima[0][0]))
assert kmeanspp.n_at_best >= kmeanspp.n_init - 1
assert not kmeanspp.settled and kmeanspp.p_unseen > 0.05

# %%
# The adaptive search
# -------------------
#
# ``n_init="auto"`` restarts in rounds (10, 10, 20, then the rest up to ``max_init``,
# 50 by default), each round only for the datasets not yet settled, from a pool of
# strategies that complement each other (random data points, mixtools' random starts
# and emEM), and stops when the search is settled. On this dataset:

auto = fastem.fit(x, 3, n_init="auto", skip_degenerate=True, random_state=0)
print(auto)
print(
    f"restarts {auto.n_restarts}, n_maxima {auto.n_maxima}, n_at_best {auto.n_at_best}, "
    f"p_unseen {auto.p_unseen:.3f}, settled {auto.settled}"
)
print("log-likelihood", auto.log_likelihood, "  best of the 100 restarts", maxima[0][0])

# %%
# It settled within its budget, at the best maximum of the 100 restarts (both checked
# here), after the number of restarts printed.

assert auto.settled and auto.n_restarts < 50
assert np.isclose(auto.log_likelihood, maxima[0][0], rtol=1e-6)

# %%
# SearchWarning, and raising the budget
# -------------------------------------
#
# On a batch, each dataset's search runs its own rounds. 300 datasets from the same
# mixture, searched with a budget (``max_init``) of 10, 50 (the default) and 100
# restarts: the datasets whose search did not settle within the budget are counted in
# one :class:`fastem.SearchWarning` (never one warning per dataset), and flagged in
# ``settled``. (Without ``skip_degenerate`` many of these small datasets would end at a
# spurious maximum: see :class:`fastem.SpuriousRule`.)

batch, _ = fastem.simulate(
    [1 / 3, 1 / 3, 1 / 3],
    [0.0, 2.5, 5.0],
    [1.0, 1.0, 1.0],
    n_samples=60,
    n_datasets=300,
    random_state=4,
)
unsettled = {}
for max_init in (10, 50, 100):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fits = fastem.fit(
            batch, 3, n_init="auto", max_init=max_init, skip_degenerate=True, random_state=0
        )
    # As the warning counts them: a dataset whose returned fit is itself degenerate is
    # reported as such, in a DegenerateFitWarning.
    regular_fit = fits.status < fastem.Status.SPURIOUS
    unsettled[max_init] = int(np.count_nonzero(~fits.settled & regular_fit))
    print(
        f"max_init={max_init}: unsettled {unsettled[max_init]} of 300, "
        f"mean restarts {fits.n_restarts.mean():.1f}"
    )
    for warning in caught:
        if warning.category is fastem.SearchWarning:
            print(f"    SearchWarning: {warning.message}")
            assert str(warning.message).startswith(f"{unsettled[max_init]} of 300 ")

# %%
# A larger budget settles more searches, and the restarts it spends go to the datasets
# that need them: with a budget of 100, the mean number of restarts per dataset stays
# below half of it (both checked below). A dataset still unsettled keeps the best
# maximum its search found, which more restarts might better; its ``settled`` is False,
# so that an analysis can set it aside or search it further.

assert unsettled[10] > unsettled[50] > unsettled[100]
assert fits.n_restarts.mean() < 0.5 * 100

# %%
# The search's rules, the pools of strategies, spurious maxima, and how the defaults
# fare on real datasets with known best maxima are in :doc:`/guide/search`.

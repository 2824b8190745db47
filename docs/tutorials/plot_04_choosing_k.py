"""
Choosing the number of components
=================================

How many components does a sample need? fastem answers in two ways. Information
criteria (BIC, AIC, ICL) weigh each candidate's log-likelihood against its number of
parameters: :func:`fastem.select` fits every candidate and chooses one per dataset. The
bootstrap likelihood-ratio test, :func:`fastem.bootstrap_lrt`, asks instead whether
``K + 1`` components fit significantly better than ``K``, for ``K = 1, 2, ...`` in turn.
This tutorial runs both on the two variables of Old Faithful (the waiting time between
eruptions and the eruptions' durations), then shows what the test says when it cannot
be made. The :doc:`guide page <../guide/choosing-k>` has the details.
"""

# %%
# The data
# --------
#
# R's ``faithful``: eruptions of the Old Faithful geyser, each with its duration and the
# waiting time before it, in minutes. The file is a copy of the one fastem's tests
# use.

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import chi2

import fastem
from fastem import plots

table = np.loadtxt(Path("data/faithful.csv"), skiprows=1, delimiter=",")
eruptions, waiting = table[:, 0], table[:, 1]
print("points:", waiting.size)
print("waiting:   from", waiting.min(), "to", waiting.max(), "minutes")
print("eruptions: from", eruptions.min(), "to", eruptions.max(), "minutes")

# %%
# Information criteria with :func:`fastem.select`
# -----------------------------------------------
#
# :func:`fastem.select` fits every candidate: one to five components, each with equal
# variances (mclust's model ``E``) or a variance per component (model ``V``); one
# component is one candidate, of variance model ``"-"``. Each candidate is one batched
# :func:`fastem.fit` whose restarts run in rounds until its search is settled (or its
# budget of restarts is spent), from the fixed seed 0, so every call gives the same
# answer. The candidates are nested: the fit of ``K``
# components also starts from the ``K - 1`` fit with a component split in two, so the
# log-likelihood never falls as ``K`` grows.
#
# The table has one row per candidate: its log-likelihood, its number of free parameters
# ``p``, the three criteria, and what its search found (restarts run, distinct maxima,
# whether it settled).

candidates = dict(n_components=range(1, 6), variance=("equal", "unequal"))
by_bic = fastem.select(waiting, **candidates, criterion="bic")
print(by_bic)
print(by_bic.table())

log_likelihoods = np.array(by_bic.log_likelihood)
for model in ("equal", "unequal"):  # nested: the log-likelihood never falls as K grows
    line = [c for c, (_, v) in enumerate(by_bic.candidates) if v in ("-", model)]
    assert np.all(np.diff(log_likelihoods[line]) >= -1e-9 * np.abs(log_likelihoods[line[1:]]))

# %%
# Which sign?
# ~~~~~~~~~~~
#
# fastem follows scikit-learn's sign: **smaller is better**, with
#
# .. math::
#
#    \mathrm{BIC} = -2 \log L + p \log n, \qquad
#    \mathrm{AIC} = -2 \log L + 2 p, \qquad
#    \mathrm{ICL} = \mathrm{BIC} - 2 \sum_i \log \max_k r_{ik},
#
# where :math:`r_{ik}` is the posterior probability that point :math:`i` came from
# component :math:`k`: ICL adds to BIC minus twice the log-probability of the most
# likely labelling of the points, a charge for an uncertain classification, so it
# penalises components that overlap. mclust reports BIC and ICL the other way round,
# larger is better: its numbers are these negated. The cell below recomputes the three
# from each candidate's log-likelihood and checks them.

n = waiting.size
p = by_bic.n_parameters
log_map = np.array([fit.log_map for fit in by_bic.fits])  # sum_i log max_k r_ik
bic = -2 * log_likelihoods + p * np.log(n)
np.testing.assert_allclose(by_bic.bic, bic, rtol=1e-12)
np.testing.assert_allclose(by_bic.aic, -2 * log_likelihoods + 2 * p, rtol=1e-12)
np.testing.assert_allclose(by_bic.icl, bic - 2 * log_map, rtol=1e-12)
print("chosen by BIC:", by_bic.n_components, "components,", by_bic.variance, "variances")
print("its BIC (fastem, smaller is better):  ", round(by_bic.bic[by_bic.best], 2))
print("the same in mclust's sign (larger is better):", round(-by_bic.bic[by_bic.best], 2))

# %%
# The criterion against the number of components is mclust's first picture of a model
# choice; :func:`fastem.plots.draw_criterion` draws it, one line per variance model,
# with the chosen candidate ringed. Next to it, the data and the chosen fit
# (:func:`fastem.plots.draw_fit`).


def candidates_of(selection, name):
    """The :class:`fastem.plots.Candidates` of one dataset's ``selection`` by ``name``."""
    return plots.Candidates(
        name=name,
        ks=[k for k, _ in selection.candidates],
        models=[v for _, v in selection.candidates],
        values=getattr(selection, name),
        eligible=selection.eligible,
        chosen=int(np.argmin(np.where(selection.eligible, getattr(selection, name), np.inf))),
    )


fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
plots.draw_criterion(left, candidates_of(by_bic, "bic"))
left.set_title("Waiting times: BIC of each candidate")
chosen_fit = (by_bic.weights, by_bic.means, by_bic.variances)
k = by_bic.n_components
plots.draw_fit(right, waiting, tuple(a[:k] for a in chosen_fit), label="waiting time (minutes)")
_ = right.set_title(f"The BIC's choice: {k} components, {by_bic.variance} variances")

# %%
# On the waiting times the three criteria agree. Each :class:`fastem.SelectionResult`
# keeps every criterion, so choosing by another one needs no new fits; calling
# :func:`fastem.select` with ``criterion="aic"`` or ``"icl"`` gives the same choice as
# taking the smallest eligible value of the column.

chosen = {}
for name in ("bic", "aic", "icl"):
    again = fastem.select(waiting, **candidates, criterion=name)
    column = np.where(by_bic.eligible, getattr(by_bic, name), np.inf)
    assert again.best == np.argmin(column)
    chosen[name] = (again.n_components, str(again.variance))
    print(f"{name.upper()}: {again.n_components} components, {again.variance} variances")
assert len(set(chosen.values())) == 1

# %%
# When the criteria disagree
# ~~~~~~~~~~~~~~~~~~~~~~~~~~
#
# The eruptions' durations are another matter. AIC's penalty, ``2`` per parameter, does
# not grow with ``n`` as BIC's ``log n`` does, so AIC tends to more components than BIC;
# ICL charges BIC's penalty plus the overlap of the components, so it tends to fewer. Here
# the three choose three different models: look at the rings in the three panels.

erupt = fastem.select(eruptions, **candidates, criterion="bic")
print(erupt.table())
choice = {}
for name in ("bic", "aic", "icl"):
    c = candidates_of(erupt, name).chosen
    choice[name] = erupt.candidates[c]
    print(f"{name.upper()} chooses {choice[name][0]} components, {choice[name][1]} variances")
assert choice["aic"][0] > choice["bic"][0] > choice["icl"][0]

fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
for ax, name in zip(axes, ("bic", "aic", "icl")):
    plots.draw_criterion(ax, candidates_of(erupt, name))
    ax.set_title(f"Eruption durations: {name.upper()} of each candidate")

# %%
# The table's search columns matter here: a candidate whose search did not settle
# (``settled`` False) may have a higher maximum that its restarts did not find, so its
# criterion is an upper bound. :func:`fastem.select` warns (a
# :class:`fastem.SearchWarning`) only when the *chosen* candidate is unsettled;
# candidates with many components often have more maxima than any budget of restarts
# tells apart, and are only marked.

for name, selection in (("waiting", by_bic), ("eruptions", erupt)):
    print(
        f"{name}: the chosen candidate's search settled:", bool(selection.settled[selection.best])
    )
    assert selection.settled[selection.best]

# %%
# The bootstrap likelihood-ratio test
# -----------------------------------
#
# The likelihood-ratio statistic ``2 (l_{K+1} - l_K)`` does not follow its textbook
# chi-squared distribution when the null has fewer components (the smaller model sits on
# the boundary of the larger one), so :func:`fastem.bootstrap_lrt` finds its null
# distribution by the parametric bootstrap (McLachlan 1987; mclust's
# ``mclustBootstrapLRT``, mixtools' ``boot.comp``): it draws ``n_boot`` datasets of the
# same size from the fitted ``K``-component mixture, refits both models to each, and
# reports the p-value
#
# .. math::
#
#    p = \frac{1 + \#\{\text{replicates} \ge \text{observed}\}}{1 + n_\text{valid}},
#
# with its Monte Carlo standard error (MCSE). The tests run sequentially: ``1 vs 2``, then
# ``2 vs 3``, ..., stopping at the first ``K`` not rejected at ``level`` (0.05), which is
# the chosen number of components.
#
# This page uses 199 replicates per test to keep the build quick; the function's default
# is 999, which is what a publication should use (or more: the MCSE of a p-value near
# 0.05 is about 0.007 with 999 replicates, and the smallest p-value ``B`` replicates can
# give is ``1 / (B + 1)``).

lrt = fastem.bootstrap_lrt(waiting, max_components=4, n_boot=199)
print(lrt)
print(lrt.table())

# %%
# The p-values can be checked from the replicates' statistics themselves, kept in
# ``boot_statistics`` (one row per test, NaN for a replicate whose fits failed):

for t in np.flatnonzero(lrt.ran):
    boot = lrt.boot_statistics[t]
    valid = boot[np.isfinite(boot)]
    p_value = (1 + np.sum(valid >= lrt.statistic[t])) / (1 + valid.size)
    print(
        f"{lrt.tested[t]} vs {lrt.tested[t] + 1}: p = {p_value:.4f}, replicates used {valid.size}"
    )
    assert p_value == lrt.p_value[t]
    assert valid.size == lrt.n_valid[t]

# %%
# The first test rejects its null and the second does not, so the test chooses the
# second test's null, the number of components the criteria chose. The last test,
# ``3 vs 4``, was **not run**: the sequential procedure had stopped. Its entries are NaN,
# ``ran`` is False and ``reason`` is empty. That differs from **not rejected**, which is
# a test that ran and found no evidence against ``K``: the choice rests on the first test
# not rejected, and ``sequential=False`` runs every test (the choice is the same).

print("ran:      ", lrt.ran)
print("p-values: ", lrt.p_value)
print("reason:   ", lrt.reason)
print("chosen:   ", lrt.n_components, "components")
assert lrt.n_components == by_bic.n_components
assert lrt.p_value[0] <= lrt.level < lrt.p_value[1]
assert not lrt.ran[2] and np.isnan(lrt.p_value[2]) and lrt.reason[2] == ""

# %%
# The null distributions
# ~~~~~~~~~~~~~~~~~~~~~~
#
# Each histogram is a test's bootstrap null distribution; the red line is the observed
# statistic, and the blue curve the chi-squared distribution that the textbook theory
# would give it (degrees of freedom: the parameters the ``K + 1`` model adds). The
# bootstrap's distribution reaches farther to the right: its 95% quantile, printed below,
# is above the chi-squared one, so that chi-squared p-values would reject too often.
# For ``1 vs 2`` the observed value lies far beyond every replicate (the axis is
# stretched to reach it), so its p-value is the smallest 199 replicates can give. For
# ``2 vs 3`` it sits in the bulk of the distribution. Every statistic is at least 0:
# each ``K + 1`` fit also starts from the ``K`` fit with a component split in two, which
# has the same log-likelihood, and EM never lowers it (``n_negative`` counts the
# exceptions due to rounding).

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
df = 3  # the parameters the K + 1 model adds: a weight, a mean and a variance
for ax, t in zip(axes, np.flatnonzero(lrt.ran)):
    boot = lrt.boot_statistics[t]
    bins = np.linspace(0, np.nanmax(boot), 31)  # over the replicates, not up to the observed value
    ax.hist(
        boot, bins=bins, color="0.75", edgecolor="0.45", lw=0.5, label=f"{boot.size} replicates"
    )
    grid = np.linspace(0, bins[-1], 200)
    ax.plot(
        grid,
        chi2.pdf(grid, df) * boot.size * (bins[1] - bins[0]),
        "C0",
        label=f"chi-squared, {df} df",
    )
    ax.axvline(lrt.statistic[t], color="C3", lw=2, label="observed")
    ax.set_xlabel(f"2 (log L with {lrt.tested[t] + 1} - log L with {lrt.tested[t]})")
    ax.set_ylabel("replicates")
    ax.set_title(f"Waiting times, {lrt.tested[t]} vs {lrt.tested[t] + 1}: p = {lrt.p_value[t]:.3g}")
    ax.legend(frameon=False)
    q_boot, q_chi2 = np.nanquantile(boot, 0.95), chi2.ppf(0.95, df)
    test = f"{lrt.tested[t]} vs {lrt.tested[t] + 1}"
    print(f"{test}: 95% quantile, bootstrap {q_boot:.2f}, chi-squared {q_chi2:.2f}")
    assert q_boot > q_chi2
assert lrt.statistic[0] > np.nanmax(lrt.boot_statistics[0])
assert lrt.p_value[0] == 1 / (1 + lrt.n_valid[0])
assert np.nanmin(lrt.boot_statistics[lrt.ran]) >= 0 and lrt.n_negative[lrt.ran].sum() == 0

# %%
# A test answers another question than a criterion. On the eruptions' durations it asks,
# for each ``K``, whether the data reject ``K`` components at level 0.05; here it goes on
# rejecting longer than BIC goes on improving. Compare its choice with the
# criteria's above.

lrt_eruptions = fastem.bootstrap_lrt(eruptions, max_components=5, n_boot=199)
print(lrt_eruptions)
print("BIC chose", erupt.n_components, "components; the test chooses", lrt_eruptions.n_components)
assert lrt_eruptions.n_components > erupt.n_components

# %%
# A test that cannot be made
# ~~~~~~~~~~~~~~~~~~~~~~~~~~
#
# R's ``MASS::geyser`` has the durations of other eruptions of the geyser; the night's
# were recorded only as "short", "medium" or "long" (2, 3 or 4 minutes): tied values
# with no spread. The search of four components finds nothing above the fit of three but
# that fit with a component duplicated or emptied (its other maxima collapse a component
# onto the tied values: spurious fits, which are not eligible), and it does not settle.
# So ``3 vs 4`` is a test that **could not be made**, and fastem says so: ``reason`` says
# why, the p-value is NaN, a warning names the dataset, and the number of components is
# 0, undecided. It never reports "statistic 0, p = 1", which would read as "not rejected".
# More restarts (``n_init_data``), fewer components, or data without ties are the ways
# out.

durations = np.loadtxt(Path("data/geyser_duration.csv"), skiprows=1)
values, counts = np.unique(np.round(durations, 3), return_counts=True)
print("points:", durations.size)
print(
    "the most frequent values:",
    values[np.argsort(counts)[-2:]],
    "seen",
    np.sort(counts)[-2:],
    "times",
)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    lrt_geyser = fastem.bootstrap_lrt(durations, max_components=4, n_boot=99)
print(lrt_geyser)
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")
assert (
    lrt_geyser.reason[2] == "K+1 fit no better than K, search not settled" and not lrt_geyser.ran[2]
)
assert np.isnan(lrt_geyser.p_value[2]) and lrt_geyser.n_components == 0
assert lrt_geyser.ran[:2].all() and (lrt_geyser.p_value[:2] <= lrt_geyser.level).all()
assert len(caught) == 1 and lrt_geyser.reason[2] in str(caught[0].message)

# %%
# Labels play no part in the test: the statistic compares log-likelihoods, which do not
# depend on the order of the components, so label switching among the replicates cannot
# affect it. It matters for bootstrapping the parameters themselves (the next tutorial,
# :doc:`plot_05_standard_errors`).
#
# To reproduce mclust's procedure, each replicate refitted from the fit to the data alone,
# pass ``n_init=0, algorithm="em", stop="relative", spurious=fastem.SpuriousRule(0, 0)``.
# fastem's default refits each replicate from restarts as well, as the fits to the data
# are: a warm start alone searches the replicates less well than the data, and the test
# then rejects a true null too often (see the :doc:`guide <../guide/choosing-k>`).

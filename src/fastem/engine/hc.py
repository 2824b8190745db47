"""Model-based agglomerative hierarchical clustering in one dimension (mclust's ``hc``),
the steps of the ``"hc"`` starting-value strategy of :mod:`.starts`.

The clustering starts from one group per distinct value (mclust's ``dupPartition``) and
merges, at each step, the two groups whose merge changes the classification likelihood
least, as ``hc(x, modelName = "V")`` and ``"E"`` do:

``E`` (one variance)
    Ward's criterion: the increase ``n_a n_b / (n_a + n_b) (m_a - m_b)^2`` of the
    within-group sum of squares ``W``.
``V`` (a variance per group)
    ``t(a + b) - t(a) - t(b)`` with ``t(g) = n_g log((W_g + alpha) / n_g)``: the change of
    ``-2`` times the classification log-likelihood, up to constants. A group of one value
    has ``W = 0``; ``alpha`` (mclust's prior-like term, the machine epsilon in the units of
    mclust's default transformation of the data, ``mclust.options("hcUse") = "SVD"``,
    which in one dimension standardises the data and divides them by ``(n - 1)^(1/4)``)
    keeps its term finite.

``n_g`` counts points (sample weights count as repetitions), ``m_g`` is the group's mean.
Ward's merges in one dimension always join neighbours in sorted order, so ``E`` keeps
only the costs of neighbouring groups; ``V`` may join a wide group with one on the far
side of a narrow one (mclust's does on these data), so it considers every pair. Each
group remembers its best partner to its right (Müllner's generic algorithm), so memory is
O(G) for G distinct values and time O(G^2) in general (O(G^3) at worst, as mclust's,
which also stores the G^2 / 2 costs).

Ties: among pairs of equal cost (within a relative ``TIE`` of 1e-9, rounding), the merge
is the one whose groups' names ``(a, b)`` come first in lexicographic order, a group's
name being the rank of its smallest distinct value: the leftmost. mclust's choice among
ties follows the order of the points in the data and the rounding of its costs (its
``hc(x, "E")`` on Old Faithful's waiting times cuts differently at K = 5 with ``use =
"SVD"`` and ``"VARS"``).
"""

from __future__ import annotations

import math

import numpy as np

from .jit import jit
from .seeding import finish_clusters, lightest_weight, standardised, weight_of

V = 0
"""Code of model ``V``: a variance per group."""
E = 1
"""Code of model ``E``: one variance."""

_EPSILON = 2.220446049250313e-16  # mclust's EPSMAX, the smallest alpha it allows
TIE = 1e-9
"""Costs within this relative difference are ties: neither the rounding of costs computed
from standardised values nor that of decimal data in binary (0.001 steps differ by 1e-13
relative) may decide between merges that cost the same, as on data of integers (the gaps
43-44 and 91-92 of Old Faithful's waiting times) or of a few decimals."""


@jit
def distinct_values(x, point_weight, center, inv_scale):
    """The distinct standardised values of the points of positive weight, increasing, and
    the weight of each: arrays of shape (G,)."""
    keep = 0
    for i in range(x.size):
        if weight_of(point_weight, i) > 0.0:
            keep += 1
    z = np.empty(keep)
    w = np.empty(keep)
    j = 0
    for i in range(x.size):
        if weight_of(point_weight, i) > 0.0:
            z[j] = standardised(x, i, center, inv_scale)
            w[j] = weight_of(point_weight, i)
            j += 1
    order = np.argsort(z, kind="mergesort")
    values = np.empty(keep)
    counts = np.empty(keep)
    n_groups = 0
    for i in range(keep):
        value = z[order[i]]
        if n_groups > 0 and value == values[n_groups - 1]:
            counts[n_groups - 1] += w[order[i]]
        else:
            values[n_groups] = value
            counts[n_groups] = w[order[i]]
            n_groups += 1
    return values[:n_groups], counts[:n_groups]


@jit
def prior_term(counts):
    """mclust's ``alpha`` in standardised units: the machine epsilon in the units of
    ``hcUse = "SVD"``, where the data are standardised (with ``n - 1``) and divided by
    ``(n - 1)^(1/4)``, ``n`` the number of points (their total weight)."""
    n = 0.0
    for g in range(counts.size):
        n += counts[g]
    if n <= 1.0:
        return _EPSILON
    # standardised (population variance) = SVD units * sqrt(n) / (n - 1)^(1/4)
    return _EPSILON * n / math.sqrt(n - 1.0)


@jit(inline=True)
def _term(count, within, alpha):
    """``n log((W + alpha) / n)``, a group's part of the V criterion."""
    return count * math.log((within + alpha) / count)


@jit
def merge_cost(model, alpha, count, mean, within, a, b):
    """The cost of merging groups ``a`` and ``b`` (arrays of their counts, means and
    within-group sums of squares)."""
    both = _term(count[a], within[a], alpha) + _term(count[b], within[b], alpha)
    return _cost(model, alpha, count, mean, within, both, a, b)


@jit(inline=True)
def _cost(model, alpha, count, mean, within, both, a, b):
    """:func:`merge_cost` given ``both``, the sum of the two groups' terms (kept per group
    by :func:`agglomerate`, so that a cost takes one ``log`` instead of three)."""
    na, nb = count[a], count[b]
    gap = mean[a] - mean[b]
    ward = na * nb / (na + nb) * gap * gap
    if model == E:
        return ward
    return _term(na + nb, within[a] + within[b] + ward, alpha) - both


@jit(inline=True)
def _improves(cost, partner, best, best_partner):
    """Whether a pair of cost ``cost`` with ``partner`` replaces the best so far: it costs
    less, beyond rounding (:data:`TIE`), or as much and its partner comes first."""
    slack = TIE * abs(best)
    return cost < best - slack or (cost <= best + slack and partner < best_partner)


@jit
def _best_partner(model, alpha, count, mean, within, term, active, a, best, partner):
    """Group ``a``'s best partner among active groups to its right (the first at equal
    cost), or -1; with ``E`` only its right neighbour."""
    best[a] = math.inf
    partner[a] = -1
    for b in range(a + 1, count.size):
        if active[b]:
            cost = _cost(model, alpha, count, mean, within, term[a] + term[b], a, b)
            if partner[a] < 0 or _improves(cost, b, best[a], partner[a]):
                partner[a] = b
            best[a] = min(best[a], cost)
            if model == E:
                return


@jit
def agglomerate(model, values, counts, n_groups, merges, labels):
    """Merge the groups of ``values`` (distinct, increasing, of weights ``counts``) until
    ``n_groups`` remain.

    ``merges`` (int64 array of shape (G - n_groups, 2) or larger) receives each merge's
    pair of names ``(a, b)``, in order; ``labels`` (int64 array of shape (G,)) receives the
    name of the final group of each value.
    """
    size = values.size
    alpha = prior_term(counts)
    count = counts.copy()
    mean = values.copy()
    within = np.zeros(size)
    term = np.empty(size)
    for g in range(size):
        term[g] = _term(count[g], 0.0, alpha)
    active = np.ones(size, dtype=np.bool_)
    best = np.empty(size)
    partner = np.empty(size, dtype=np.int64)
    for g in range(size):
        labels[g] = g
        _best_partner(model, alpha, count, mean, within, term, active, g, best, partner)
    for n_merges in range(size - n_groups):
        lowest = math.inf
        for g in range(size):
            if active[g] and partner[g] >= 0:
                lowest = min(lowest, best[g])
        a = 0  # the first group whose best merge ties with the lowest cost
        while not (active[a] and partner[a] >= 0 and best[a] <= lowest + TIE * abs(lowest)):
            a += 1
        b = partner[a]
        merges[n_merges, 0] = a
        merges[n_merges, 1] = b
        # The merged group's statistics, around its new mean.
        n = count[a] + count[b]
        shift = (mean[b] - mean[a]) * (count[b] / n)
        within[a] += within[b] + count[a] * count[b] / n * (mean[a] - mean[b]) ** 2
        mean[a] += shift
        count[a] = n
        term[a] = _term(n, within[a], alpha)
        active[b] = False
        for g in range(size):
            if labels[g] == b:
                labels[g] = a
        for g in range(size):
            if not active[g] or g == a:
                continue
            if partner[g] == a:
                # Only the cost to a changed: if it fell (beyond a tie), a stays the best.
                cost = _cost(model, alpha, count, mean, within, term[g] + term[a], g, a)
                if cost < best[g] - TIE * abs(best[g]):
                    best[g] = cost
                else:
                    _best_partner(model, alpha, count, mean, within, term, active, g, best, partner)
            elif partner[g] == b:
                _best_partner(model, alpha, count, mean, within, term, active, g, best, partner)
            elif g < a and model == V:
                cost = _cost(model, alpha, count, mean, within, term[g] + term[a], g, a)
                if _improves(cost, a, best[g], partner[g]):
                    partner[g] = a
                best[g] = min(best[g], cost)
        _best_partner(model, alpha, count, mean, within, term, active, a, best, partner)


@jit
def hc_clusters(model, x, point_weight, center, inv_scale, weights, means, variances):
    """Weights, means and variances (arrays of shape (K,)) of the K groups of the
    hierarchical clustering: those an M-step of the partition gives (mclust's ``hclass``
    then ``me``), the variance of a group of one value floored as the other strategies'
    clusters are. With fewer distinct values than K, the last groups repeat the last
    value with a negligible weight."""
    n_components = means.size
    values, counts = distinct_values(x, point_weight, center, inv_scale)
    size = values.size
    labels = np.empty(size, dtype=np.int64)
    merges = np.empty((max(size - n_components, 0), 2), dtype=np.int64)
    agglomerate(model, values, counts, min(n_components, size), merges, labels)
    count = np.zeros(n_components)
    s1 = np.zeros(n_components)
    s2 = np.zeros(n_components)
    pivots = np.zeros(n_components)
    slot = np.full(size, -1)
    n_found = 0
    for g in range(size):  # groups numbered by their smallest value
        if slot[labels[g]] < 0:
            slot[labels[g]] = n_found
            pivots[n_found] = values[g]
            n_found += 1
    for k in range(n_found, n_components):
        pivots[k] = values[size - 1] if size > 0 else 0.0
    for g in range(size):
        k = slot[labels[g]]
        dev = values[g] - pivots[k]  # around the group's smallest value: no cancellation
        count[k] += counts[g]
        s1[k] += counts[g] * dev
        s2[k] += counts[g] * dev * dev
    finish_clusters(count, s1, s2, pivots, lightest_weight(point_weight), weights, means, variances)

"""The "hc" start: mclust's model-based hierarchical clustering, merge by merge."""

from pathlib import Path

import numpy as np
import pytest

import fastem
from fastem.engine import hc

pytestmark = pytest.mark.plain_python

DATA = Path(__file__).parent / "data"

# mclust 6.0.0's merges, by tests/r/hc.R (the lines "use = SVD", Mclust's default
# transformation mclust.options("hcUse")): hc(x, modelName = model, use = "SVD") on each
# dataset. A group is named by the rank of its smallest distinct value (0 for the
# smallest); a merge of groups a < b is "a-b", and the merged group keeps the name a.
MCLUST_MERGES = {
    ("faithful", "V"): (
        "46-47 46-49 46-50 27-46 23-27 22-23 0-22 0-24 0-21 0-42 0-48 0-44 0-20 0-18 0-13 0-4 "
        "0-1 0-25 0-19 0-17 0-14 0-12 0-3 0-26 0-8 0-6 0-5 0-2 0-16 0-11 0-7 0-29 0-40 0-41 "
        "0-43 0-45 0-28 0-15 0-9 0-30 0-35 0-31 0-10 0-34 0-39 0-32 0-37 0-36 0-38 0-33"
    ),
    ("faithful", "E"): (
        "46-47 22-23 48-49 26-27 20-21 24-25 41-42 3-4 18-19 13-14 1-2 43-44 11-12 5-6 7-8 "
        "28-29 15-16 45-46 39-40 9-10 30-31 34-35 48-50 0-1 36-37 17-18 20-22 32-33 24-26 "
        "38-39 13-15 0-3 43-45 5-7 9-11 28-30 17-20 32-34 38-41 43-48 36-38 24-28 5-9 13-17 "
        "0-5 24-32 36-43 0-13 24-36 0-24"
    ),
    ("galaxies", "V"): (
        "57-58 65-66 64-65 64-67 64-68 64-69 63-64 62-63 61-62 60-61 59-60 57-59 56-57 55-56 "
        "54-55 53-54 52-53 51-52 50-51 49-50 48-49 47-48 46-47 45-46 45-70 45-71 45-72 45-73 "
        "44-45 44-74 43-44 42-43 41-42 40-41 39-40 38-39 37-38 36-37 35-36 34-35 33-34 32-33 "
        "31-32 30-31 29-30 28-29 27-28 26-27 25-26 24-25 23-24 22-23 21-22 20-21 19-20 18-19 "
        "17-18 16-17 15-16 14-15 13-14 12-13 11-12 10-11 9-10 9-75 9-76 8-9 7-8 7-77 7-78 2-3 "
        "1-2 0-1 0-4 0-5 0-6 7-79 7-80 7-81 0-7"
    ),
    ("galaxies", "E"): (
        "57-58 65-66 32-33 27-28 71-72 68-69 16-17 35-36 21-22 52-53 25-26 31-32 24-25 29-30 "
        "20-21 13-14 15-16 62-63 50-51 40-41 34-35 59-60 18-19 48-49 39-40 10-11 67-68 61-62 "
        "54-55 31-34 64-65 39-42 50-52 2-3 7-8 71-73 27-29 46-47 18-20 43-44 12-13 24-27 "
        "54-56 0-1 5-6 9-10 18-23 37-38 57-59 70-71 46-48 74-75 2-4 64-67 77-78 50-54 39-43 "
        "15-18 45-46 0-2 31-37 79-80 61-64 9-12 74-76 24-31 50-57 0-5 70-74 45-50 9-15 79-81 "
        "24-39 61-70 9-24 61-77 7-9 45-61 7-45 7-79 0-7"
    ),
    ("acidity", "V"): (
        "91-92 123-124 123-125 123-126 123-127 122-123 121-122 121-128 120-121 119-120 "
        "118-119 117-118 116-117 116-129 115-116 114-115 113-114 112-113 111-112 110-111 "
        "109-110 108-109 107-108 106-107 105-106 104-105 103-104 102-103 101-102 100-101 "
        "99-100 98-99 97-98 96-97 95-96 94-95 93-94 90-93 89-90 88-89 88-91 87-88 87-130 "
        "87-131 87-132 87-133 87-134 87-135 87-136 87-137 85-87 84-85 83-84 82-83 62-63 62-64 "
        "62-65 81-82 80-81 79-80 78-79 77-78 76-77 75-76 74-75 73-74 72-73 71-72 70-71 69-70 "
        "68-69 67-68 66-67 61-66 60-61 59-60 58-59 57-58 56-57 55-56 54-55 53-54 51-53 50-51 "
        "49-50 48-49 47-48 45-47 44-45 42-44 41-42 40-41 38-40 36-38 34-36 33-34 32-33 31-32 "
        "30-31 29-30 28-29 27-28 26-27 24-26 23-24 21-23 20-21 19-20 18-19 17-18 15-17 14-15 "
        "11-14 9-11 7-9 6-7 5-6 4-5 3-4 2-3 1-2 0-1 0-62 0-86 0-46 0-43 0-39 0-37 0-35 0-22 "
        "0-13 0-12 0-10 0-8 0-52 0-25 0-16"
    ),
    ("acidity", "E"): (
        "91-92 123-124 62-63 102-103 112-113 33-34 27-28 20-21 22-23 15-16 126-127 97-98 2-3 "
        "83-84 58-59 64-65 5-6 13-14 31-32 17-18 22-24 100-101 107-108 62-64 72-73 51-52 "
        "58-60 68-69 40-41 76-77 118-119 88-89 11-12 43-44 7-8 112-114 51-53 26-27 47-48 "
        "134-135 131-132 66-67 36-37 125-126 45-46 30-31 19-20 96-97 78-79 49-50 106-107 "
        "38-39 55-56 90-91 33-35 94-95 104-105 134-136 111-112 121-122 80-81 10-11 26-29 "
        "70-71 5-7 99-100 22-25 130-131 87-88 115-116 57-58 13-15 85-86 109-110 123-125 45-47 "
        "40-42 72-74 118-120 93-94 49-51 130-133 17-19 54-55 36-38 128-129 9-10 30-33 66-68 "
        "1-2 115-117 99-102 61-62 43-45 78-80 106-109 93-96 134-137 17-22 66-70 82-83 118-121 "
        "111-115 36-40 9-13 72-75 104-106 1-4 87-90 54-57 76-78 26-30 123-128 130-134 43-49 "
        "93-99 61-66 5-9 26-36 85-87 118-123 5-17 43-54 76-82 61-72 104-111 85-93 1-5 118-130 "
        "26-43 0-1 61-76 85-104 0-26 85-118 0-61 0-85"
    ),
}

# Merges of equal cost (within 1e-9 relative) that mclust breaks by the order of the points
# and the rounding of its costs, and fastem for the leftmost pair: after the first of them,
# the two sequences may differ. Old Faithful's integer waiting times have such ties in E
# from the first merge on (the gaps 22-23 and 46-47), and they change which of three
# equally spaced values (12, 13, 14) join first, so that the cuts into 4 and 5 groups
# differ; mclust's own cuts at K = 5 differ between use = "SVD" and "VARS" there.
TIE_DEPENDENT_CUTS = {("faithful", "E", 4), ("faithful", "E", 5)}


def _data(name):
    table = np.loadtxt(DATA / f"{name}.csv", skiprows=1, delimiter=",")
    return table[:, 1] if name == "faithful" else table


def _groups(x):
    """Distinct standardised values and their counts, as the start computes them."""
    return hc.distinct_values(x, np.empty(0), x.mean(), 1.0 / x.std())


def _reference_costs(model, alpha, count, mean, within, active):
    """Every active pair's cost, written from the criterion (NumPy, all pairs at once)."""
    names = np.flatnonzero(active)
    a, b = np.triu_indices(names.size, 1)
    a, b = names[a], names[b]
    n = count[a] + count[b]
    ward = count[a] * count[b] / n * (mean[a] - mean[b]) ** 2
    if model == hc.E:
        return a, b, ward

    def term(c, w):
        return c * np.log((w + alpha) / c)

    cost = (
        term(n, within[a] + within[b] + ward)
        - term(count[a], within[a])
        - term(count[b], within[b])
    )
    return a, b, cost


def _replay(model, values, counts, merges):
    """For each merge in turn: its cost and the costs of every pair then."""
    alpha = hc.prior_term(counts)
    count, mean = counts.copy(), values.copy()
    within = np.zeros(values.size)
    active = np.ones(values.size, dtype=bool)
    for a, b in merges:
        pairs_a, pairs_b, costs = _reference_costs(model, alpha, count, mean, within, active)
        yield costs[(pairs_a == a) & (pairs_b == b)][0], pairs_a, pairs_b, costs
        n = count[a] + count[b]
        within[a] += within[b] + count[a] * count[b] / n * (mean[a] - mean[b]) ** 2
        mean[a] += (mean[b] - mean[a]) * count[b] / n
        count[a] = n
        active[b] = False


def _fastem_merges(model, values, counts, n_groups=1):
    merges = np.empty((values.size - n_groups, 2), dtype=np.int64)
    labels = np.empty(values.size, dtype=np.int64)
    hc.agglomerate(model, values, counts, n_groups, merges, labels)
    return [tuple(pair) for pair in merges.tolist()], labels


def _mclust(name, model):
    return [tuple(map(int, pair.split("-"))) for pair in MCLUST_MERGES[name, model].split()]


def _labels(merges, size, n_groups):
    labels = np.arange(size)
    for a, b in merges[: size - n_groups]:
        labels[labels == b] = a
    return labels


def _is_tie(cost, lowest):
    return cost - lowest <= 1e-9 * abs(lowest)


@pytest.mark.parametrize("name, model", list(MCLUST_MERGES))
def test_each_of_mclusts_merges_is_a_least_costly_one_by_the_criterion(name, model):
    values, counts = _groups(_data(name))
    code = hc.V if model == "V" else hc.E
    for step, (cost, _, _, costs) in enumerate(_replay(code, values, counts, _mclust(name, model))):
        assert _is_tie(cost, costs.min()), (step, cost, costs.min())


@pytest.mark.parametrize("name, model", list(MCLUST_MERGES))
def test_fastem_merges_as_mclust_up_to_the_first_tie_and_takes_the_leftmost_tied_pair(name, model):
    values, counts = _groups(_data(name))
    code = hc.V if model == "V" else hc.E
    mclust = _mclust(name, model)
    ours, _ = _fastem_merges(code, values, counts)
    assert len(ours) == len(mclust) == values.size - 1
    for step, (_, pairs_a, pairs_b, costs) in enumerate(_replay(code, values, counts, ours)):
        tied = sorted(
            zip(pairs_a[_is_tie(costs, costs.min())], pairs_b[_is_tie(costs, costs.min())])
        )
        assert ours[step] == tuple(tied[0]), step  # the leftmost of the cheapest
        if len(tied) > 1:
            assert mclust[step] in [tuple(t) for t in tied], step
            break  # the sequences may part here
        assert ours[step] == mclust[step], step
    else:
        assert ours == mclust  # no tie on the way: the whole sequence
    if name == "acidity":
        assert ours == mclust


@pytest.mark.parametrize("name, model", list(MCLUST_MERGES))
def test_the_cuts_into_2_to_5_groups_are_mclusts_hclass(name, model):
    values, counts = _groups(_data(name))
    code = hc.V if model == "V" else hc.E
    ours, _ = _fastem_merges(code, values, counts)
    for k in range(2, 6):
        same = np.array_equal(
            _labels(ours, values.size, k), _labels(_mclust(name, model), values.size, k)
        )
        assert same == ((name, model, k) not in TIE_DEPENDENT_CUTS), k


@pytest.mark.parametrize("model", ["V", "E"])
def test_the_start_is_the_m_step_of_the_cut(model):
    x = _data("faithful")
    values, counts = _groups(x)
    code = hc.V if model == "V" else hc.E
    for k in (2, 3, 4):
        _, labels = _fastem_merges(code, values, counts, k)
        group_of_value = np.searchsorted(np.unique(labels), labels)
        distinct = np.unique(x)  # in the order of the standardised values
        assert distinct.size == values.size
        group = group_of_value[np.searchsorted(distinct, x)]
        start = fastem.init.hc(x, k, model=model)
        sizes = np.bincount(group, minlength=k)
        means = np.bincount(group, weights=x) / sizes
        variances = np.bincount(group, weights=(x - means[group]) ** 2) / sizes
        order = np.argsort(means)
        np.testing.assert_allclose(start.weights[0], sizes[order] / x.size, rtol=1e-12)
        np.testing.assert_allclose(start.means[0], means[order], rtol=1e-12)
        floor = x.var() * 1e-3 / k**2  # a group of one value starts at var(x) / K**2
        expected = np.where(variances > floor, variances, x.var() / k**2)[order]
        np.testing.assert_allclose(start.variances[0], expected, rtol=1e-9)


@pytest.mark.parametrize("model", [hc.V, hc.E])
def test_ties_go_to_the_leftmost_pair_whatever_the_units(model):
    # Equal gaps of 1 between 0, 1, 2, 3 (and 10, 11): every first merge costs the same.
    # Shifted and scaled, the standardised gaps differ by rounding, not the merges.
    x = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 11.0])
    first = None
    for shift, scale in [(0.0, 1.0), (0.1, 3.0), (-7.3, 1e-3), (1e6, 7.0)]:
        y = shift + scale * x
        merges, _ = _fastem_merges(
            model, *hc.distinct_values(y, np.empty(0), y.mean(), 1 / y.std())
        )
        assert merges[0] == (0, 1)
        first = merges if first is None else first
        assert merges == first


def test_the_model_and_the_restarts():
    x = _data("galaxies")
    v = fastem.init.hc(x, 3, n_init=2)  # V is the default
    np.testing.assert_array_equal(v.means, fastem.init.hc(x, 3, model="V", n_init=2).means)
    np.testing.assert_array_equal(v.means[0], v.means[1])  # deterministic
    e = fastem.init.hc(x, 3, model="E")
    assert not np.array_equal(v.means[0], e.means[0])
    with pytest.warns(UserWarning, match="init='hc' is deterministic"):
        fastem.fit(x, 3, init="hc", n_init=2)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"model": "VVV"}, r"init_params\['model'\]='VVV' is not one of 'V', 'E'"),
        (
            {"modelName": "V"},
            r"\['modelName'\] are not options of init='hc' \(its options: model\)",
        ),
    ],
)
def test_bad_init_params_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        fastem.fit(np.arange(10.0), 2, init="hc", init_params=params)

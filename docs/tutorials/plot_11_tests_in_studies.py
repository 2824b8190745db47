"""
Size and power of tests of K, inside a study
============================================

A study of a bootstrap test's size refits every simulated dataset ``B`` times, and ``B``
must be large for the test's own Monte Carlo error not to blur its rejection rate. Boos &
Zhang (2000) estimate the rate of the ``B = infinity`` test from a few small ``B``: the
rates at ``B = 19, 39, 59`` (each from the first ``B`` of one set of replicates per
dataset) lie on a line in ``1/B``, whose intercept is the rate at ``B = infinity``. This
tutorial runs the bootstrap likelihood-ratio test and the EM-test on the same simulated
datasets, in one study each, with no loop in Python. The :doc:`studies guide
<../guide/studies>` explains every column.
"""

# %%
# A null scenario and an alternative
# ----------------------------------
#
# One N(0, 1) component (the test's size) and two components 2.5 standard deviations apart
# (its power), 200 datasets of 60 points each. The test is of one component against two,
# at levels 0.05 and 0.10 (``(B + 1) alpha`` is a whole number for every ``B``).

import matplotlib.pyplot as plt
import numpy as np

import fastem

scenarios = [
    {"name": "null", "weights": [1.0], "means": [0.0], "variances": [1.0]},
    {"name": "two", "weights": [0.5, 0.5], "means": [0.0, 2.5], "variances": [1.0, 1.0]},
]
common = dict(
    scenarios=scenarios,
    n_samples=[60],
    replications=200,
    init=["kmeans++"],
    n_init=3,
    seed=2029,
    test_k0=1,
    levels=[0.05, 0.10],
)
bootstrap = fastem.Design(test="bootstrap_lrt", n_boot=[19, 39, 59], **common).run()
columns = ["scenario", "test_failed", "reject_05", "reject_05_bz", "reject_10", "reject_10_bz"]
print(bootstrap.table.select(*columns))

# %%
# ``reject_05`` is the rate at the largest ``B`` (59), ``reject_05_bz`` Boos & Zhang's
# estimate for ``B = infinity``; each has its Monte Carlo standard error (``_mcse``), that
# of the extrapolation from the spread across datasets of the per-dataset combination of
# rejections it is made of. The extrapolation is the least-squares line through the
# rates at the three sizes:

table = bootstrap.table
for row in range(len(table)):
    sizes = np.array([19, 39, 59])
    rates = [table[f"reject_05_b{b}"][row] for b in sizes[:-1]] + [table["reject_05"][row]]
    slope, intercept = np.polyfit(1.0 / sizes, rates, 1)
    print(f"{table['scenario'][row]}: rates {np.round(rates, 3)} -> intercept {intercept:.4f}")
    assert np.isclose(intercept, table["reject_05_bz"][row], rtol=1e-12, atol=1e-15)
    plt.plot(1.0 / sizes, rates, "o-", label=table["scenario"][row])
    plt.plot([0.0, 1.0 / sizes[0]], [intercept, intercept + slope / sizes[0]], "k:", lw=1)
plt.xlabel("1 / B")
plt.ylabel("rejection rate at 0.05")
plt.legend()
plt.title("Boos & Zhang: the rates in 1/B, extrapolated to B = infinity")
plt.show()

# %%
# The EM-test on the same datasets
# --------------------------------
#
# The same design with ``test="emtest"``: the same seed draws the same datasets, and the
# EM-test (one component against two, its p-value from its chi-square limit) needs no
# refits at all, so there is no ``B`` and no extrapolation.

emtest = fastem.Design(test="emtest", **common).run()
print(emtest.table.select("scenario", "test_failed", "reject_05", "reject_10"))
null = list(emtest.table["scenario"]).index("null")
size, mcse = emtest.table["reject_05"][null], emtest.table["reject_05_mcse"][null]
print(f"EM-test size at 0.05: {size:.3f} (MCSE {mcse:.3f})")
assert abs(size - 0.05) <= 4 * mcse

"""
The EM-test: the number of components without a bootstrap
==========================================================

:func:`fastem.emtest` tests ``m0`` components against ``2 m0`` by the EM-test of Chen &
Li (2009) and Chen, Li & Fu (2012), as R's MixtureInf computes it: a penalised fit of
``m0`` components, a few penalised EM iterations of alternatives that split each of its
components, and a p-value from the statistic's chi-square limit, with ``2 m0`` degrees of
freedom. No data are simulated and no model is refitted hundreds of times, so it runs on
thousands of datasets in seconds. This tutorial applies it to Old Faithful's waiting
times, then checks its size on samples from one normal distribution. The :doc:`guide page
<../guide/emtest>` has the details.
"""

# %%
# Old Faithful: one component or two? two or four?
# ------------------------------------------------
#
# The waiting times between eruptions have two clear groups. The test of one component
# against two rejects with a tiny p-value; the test of two against four does not.

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

import fastem

waiting = np.loadtxt(Path("data/faithful.csv"), skiprows=1, delimiter=",")[:, 1]
one = fastem.emtest(waiting, m0=1)
two = fastem.emtest(waiting, m0=2)
print(f"1 vs 2: statistic {one.statistic:.2f}, p-value {one.p_value:.3g}")
print(f"2 vs 4: statistic {two.statistic:.2f}, p-value {two.p_value:.3g}")
print("null fit of two components: means", np.round(two.null_means, 2))
assert one.p_value < 1e-20 and two.p_value > 0.05

# %%
# The result holds the null fit (penalised, in the data's units), the best alternative
# after the ``k = 3`` EM-test iterations and the split proportions ``beta`` it ended at.
# The two halves of null component ``h`` are components ``2h`` and ``2h + 1``.

print("alternative's means", np.round(two.means, 2), "betas", np.round(two.beta, 3))
print("the alternative's variance penalty (MixtureInf's formula):", round(two.penalty_variance, 4))

# %%
# Size under one normal component
# -------------------------------
#
# 400 samples of 100 points from N(0, 1), tested in one call: under the null hypothesis
# the statistic is close to chi-square with 2 degrees of freedom, and the test rejects
# about 5% of the samples at level 0.05 (within Monte Carlo error).

samples = np.random.default_rng(2028).normal(size=(400, 100))
result = fastem.emtest(samples, m0=1)
rate = np.mean(result.p_value <= 0.05)
mcse = np.sqrt(0.05 * 0.95 / samples.shape[0])
print(f"rejection rate at 0.05: {rate:.3f} (Monte Carlo standard error {mcse:.3f})")
assert abs(rate - 0.05) <= 3 * mcse

fig, ax = plt.subplots(figsize=(6, 3.5))
grid = np.linspace(0, 14, 200)
ax.hist(result.statistic, bins=30, density=True, alpha=0.6, label="EM-test statistics")
ax.plot(grid, stats.chi2.pdf(grid, 2), label="chi-square, 2 degrees of freedom")
ax.set_xlabel("statistic")
ax.set_ylabel("density")
ax.legend()
fig.tight_layout()

"""
Penalised likelihood and priors against degenerate fits
=======================================================

The likelihood of a Gaussian mixture is unbounded: a component that sits on one point
with a variance shrinking to zero sends it to infinity. On small samples, EM from random
starts often climbs towards such a spurious fit, and the best restart by likelihood is
then a component of one or two points. This tutorial fits a thousand small samples three
ways: by maximum likelihood, by the penalised likelihood of Chen, Tan & Zhang (2008)
(``penalty="ctz"``) and by mclust's conjugate prior (``prior="default"``), and counts the
spurious fits and the errors of the variances. The :doc:`guide page
<../guide/degeneracy>` has the formulas.
"""

# %%
# A thousand samples of 25 points
# -------------------------------
#
# Two components of variance 1, 2.5 standard deviations apart, half the points each:
# a mixture that 25 points describe only roughly. Each dataset gets ten restarts from
# random data points, and keeps its best.

import matplotlib.pyplot as plt
import numpy as np

import fastem

data, _ = fastem.simulate(
    [0.5, 0.5], [0.0, 2.5], [1.0, 1.0], n_samples=25, n_datasets=1000, random_state=3
)
options = dict(n_init=10, init="random_from_data", random_state=0, warn=False)
fits = {
    "maximum likelihood": fastem.fit(data, 2, **options),
    'penalty="ctz"': fastem.fit(data, 2, penalty="ctz", **options),
    'prior="default"': fastem.fit(data, 2, prior="default", **options),
}

# %%
# Spurious fits and the errors of the variances
# ---------------------------------------------
#
# fastem flags a fit as spurious when a component has fewer than five points' worth of
# weight or a variance below 1% of the dataset's (:class:`fastem.SpuriousRule`). Without
# a penalty, about one dataset in six ends on such a fit; with either penalty, none does:
# no variance can approach zero, since each penalty tends to minus infinity there. The
# variances' bias and root mean squared error (the truth is 1) fall too.

print(f"{'':20} {'spurious':>9} {'bias':>7} {'rmse':>7} {'smallest variance':>18}")
for name, fit in fits.items():
    spurious = np.mean(fit.status == fastem.Status.SPURIOUS)
    errors = fit.variances - 1.0
    bias, rmse = errors.mean(), np.sqrt((errors**2).mean())
    print(f"{name:20} {spurious:9.3f} {bias:7.3f} {rmse:7.3f} {fit.variances.min():18.3g}")

# %%
# The smallest fitted variance of each dataset, on a log scale: maximum likelihood puts a
# cluster of fits at fastem's floor (1e-15 of the dataset's variance), where a component
# collapsed onto one point; the penalised fits stay clear of it. mclust's default prior
# pulls the variances down, towards its scale ``var(x) / K^2``: a strong prior on 25
# points (its bias above), where Chen, Tan & Zhang's penalty, of weight ``n^(-1/2)``, pulls
# them towards the sample variance.

figure, axis = plt.subplots(figsize=(7, 3.5))
bins = np.linspace(-16, 1, 69)
for name, fit in fits.items():
    axis.hist(np.log10(fit.variances.min(axis=1)), bins=bins, histtype="step", label=name)
axis.set_xlabel("log10 of the smallest fitted variance (true: 0)")
axis.set_ylabel("datasets")
axis.legend(loc="upper left")
figure.tight_layout()

# %%
# What a penalised fit reports
# ----------------------------
#
# EM climbs the penalised log-likelihood, the log-likelihood plus the penalty: it is the
# objective the restarts compete by, the one every iteration increases, and it is
# reported as ``penalized_log_likelihood`` (the restarts' log-likelihoods and traces are
# penalised too). ``log_likelihood`` stays the plain log-likelihood of the fitted
# parameters, and BIC, AIC and ICL are computed on it, as mclust computes BIC with a
# prior.

fit = fits['penalty="ctz"']
print("log-likelihood:          ", np.round(fit.log_likelihood[:3], 3))
print("penalised log-likelihood:", np.round(fit.penalized_log_likelihood[:3], 3))
print("BIC:                     ", np.round(fit.bic()[:3], 3))

# %%
# The size of the penalty
# -----------------------
#
# Chen, Tan & Zhang's penalty is ``-a_n sum_k (s^2 / sigma_k^2 + log(sigma_k^2 / s^2))``,
# with ``s^2`` the sample variance and ``a_n = n^(-1/2)`` by default. Its M-step is EM's
# with ``2 a_n s^2`` added to each component's sum of squares and ``2 a_n`` to its count
# of points: a larger ``a_n`` pulls every variance harder towards ``s^2``. A number
# passed as ``penalty`` is ``a_n``; a study compares several side by side.

for a_n in (0.05, 0.2, 1.0):
    variances = fastem.fit(data, 2, penalty=a_n, **options).variances
    print(f"a_n = {a_n:4}: mean fitted variance {variances.mean():.3f}")

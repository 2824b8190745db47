# fastem's EM map for a one-dimensional Gaussian mixture, in R, in fastem's
# parameterisation: the reference that R's accelerators (SQUAREM, daarem, turboEM)
# run from the same starts as fastem, so that their passes and log-likelihoods can be
# compared with fastem's.
#
# Conventions (as fastem's kernels, src/fastem/engine/):
# - the data are standardised per dataset, z = (x - mean(x)) / sd(x), sd the population
#   standard deviation (engine/layout.py), and every parameter is in these units;
# - a point of the parameter space is par = c(log weights, means, log variances), each
#   of length K (engine/squarem.py's coordinates): every such point is a valid mixture,
#   the weights being exp(log weights) normalised to sum to 1;
# - the log-likelihood is the total over the points, in standardised units; the
#   log-likelihood in the data's units is loglik(par, z, K) - n * log(sd(x)).
#
# Usage: source("tests/r/em_map.R") defines the functions below; run as a script
# (Rscript tests/r/em_map.R) it prints the check that tests/test_daarem.py holds:
# one map and the log-likelihood on faithful's waiting times, which the test compares
# with fastem.reference.

# z = (x - mean) / sd, sd the population standard deviation (divisor n).
standardise <- function(x) {
  centre <- mean(x)
  scale <- sqrt(mean((x - centre)^2))
  list(z = (x - centre) / scale, centre = centre, scale = scale)
}

# par from weights, means, variances (each of length K).
to_par <- function(weights, means, variances) {
  c(log(weights), means, log(variances))
}

# weights, means, variances from par (the weights normalised to sum to 1).
from_par <- function(par, K) {
  lw <- par[1:K]
  w <- exp(lw - max(lw))
  list(weights = w / sum(w), means = par[K + 1:K], variances = exp(par[2 * K + 1:K]))
}

# log(w_k) + log N(z_i | mu_k, var_k): a matrix of n rows and K columns.
log_joint <- function(par, z, K) {
  p <- from_par(par, K)
  sapply(1:K, function(k) {
    log(p$weights[k]) - 0.5 * log(2 * pi * p$variances[k]) -
      0.5 * (z - p$means[k])^2 / p$variances[k]
  })
}

# Row-wise log-sum-exp of a matrix.
log_sum_exp <- function(a) {
  top <- apply(a, 1, max)
  top + log(rowSums(exp(a - top)))
}

# The total log-likelihood of the mixture par over the points z.
loglik <- function(par, z, K) {
  sum(log_sum_exp(matrix(log_joint(par, z, K), ncol = K)))
}

# One EM map: the E-step's responsibilities at par, then the M-step, returned as par.
em_map <- function(par, z, K) {
  a <- matrix(log_joint(par, z, K), ncol = K)
  resp <- exp(a - log_sum_exp(a))
  n_k <- colSums(resp)
  means <- colSums(resp * z) / n_k
  variances <- colSums(resp * outer(z, means, "-")^2) / n_k
  to_par(n_k / sum(n_k), means, variances)
}

# Read a column of one of the test data files (tests/data/*.csv).
read_column <- function(file, column) {
  read.csv(file)[[column]]
}

if (sys.nframe() == 0) {
  here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
  waiting <- read_column(file.path(here, "..", "data", "faithful.csv"), "waiting")
  z <- standardise(waiting)$z
  par <- to_par(c(0.4, 0.6), c(-1, 0.5), c(0.5, 0.8))
  options(digits = 17)
  cat("loglik:", format(loglik(par, z, 2), digits = 17), "\n")
  cat("em_map:", format(em_map(par, z, 2), digits = 17), "\n")
}

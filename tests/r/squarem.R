# R's SQUAREM (squarem1, method = 1, 2, 3) on fastem's EM map (em_map.R), from the starts
# that tests/test_accelerators.py gives fastem: the numbers that test holds.
#
# Controls that make R run fastem's algorithm:
# - objfn.inc = 0: an extrapolation is kept only when the log-likelihood does not fall
#   (R tests the stabilised F(theta'), fastem theta' itself; they decide alike unless
#   l(theta') < l(theta_0) <= l(F(theta')), and the test checks that the paths agree);
# - tol = 0 and a budget of maps (maxiter): R never stops on its own rule, whose norm
#   differs from fastem's, so each run ends after whole steps once maxiter maps are
#   spent; fastem runs the same number of steps (max_iter = steps, tol = 0).
# Printed per run: data, K, start, method, steps (iter - 1), fpevals and the final
# log-likelihood in the data's units.
#
# Run from the repository's root: Rscript tests/r/squarem.R

suppressPackageStartupMessages(library(SQUAREM))
source("tests/r/em_map.R")

waiting <- read_column("tests/data/faithful.csv", "waiting")
galaxies <- read_column("tests/data/galaxies.csv", "velocity")

# Starting values in the data's units: weights, means, variances.
starts <- list(
  list("waiting", waiting, c(0.5, 0.5), c(55, 80), c(30, 30), 12),
  list("waiting", waiting, c(0.3, 0.7), c(50, 75), c(100, 40), 12),
  list("waiting", waiting, c(1, 1, 1) / 3, c(50, 65, 80), c(25, 25, 25), 150),
  list("waiting", waiting, c(0.2, 0.3, 0.5), c(48, 60, 82), c(20, 50, 30), 150),
  list("galaxies", galaxies, c(0.1, 0.5, 0.4), c(10000, 20000, 23000), c(1e6, 4e6, 4e6), 40),
  list(
    "galaxies", galaxies, c(0.1, 0.4, 0.4, 0.1), c(9500, 19500, 22500, 33000),
    c(5e5, 1e6, 1e6, 1e6), 60
  )
)

for (i in seq_along(starts)) {
  s <- starts[[i]]
  std <- standardise(s[[2]])
  K <- length(s[[3]])
  par <- to_par(s[[3]], (s[[4]] - std$centre) / std$scale, s[[5]] / std$scale^2)
  for (method in 1:3) {
    fit <- squarem(
      par,
      fixptfn = em_map, objfn = function(p, z, K) -loglik(p, z, K), z = std$z, K = K,
      control = list(method = method, maxiter = s[[6]], tol = 0, objfn.inc = 0)
    )
    value <- -fit$value.objfn - length(std$z) * log(std$scale)
    cat(sprintf(
      "(\"%s\", %d, %d, %d, %d, %d, %.17g),\n",
      s[[1]], K, i, method, fit$iter - 1, fit$fpevals, value
    ))
  }
}

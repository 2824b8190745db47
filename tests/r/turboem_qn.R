# turboEM's quasi-Newton EM (method = "qn", its default qn = 2 secants) on fastem's EM map
# (em_map.R), from the starts of tests/r/squarem.R, run to convergence: the numbers that
# tests/test_accelerators.py holds.
#
# turboEM is not in Debian: its R sources are public (the CRAN package's mirror,
# github.com/cran/turboEM); put R/turboem.R of version 2025.1 at the path in the
# environment variable TURBOEM_R and run from the repository's root:
#   TURBOEM_R=/path/to/turboem.R Rscript tests/r/turboem_qn.R
# (it needs doParallel, foreach, numDeriv and quantreg, which Debian has).
#
# turboEM's qn and fastem's differ by design (see docs/guide/algorithms.md): turboEM keeps
# the quasi-Newton point theta' when its objective beats EM's theta_2 (two objective
# evaluations a step), fastem maps theta' once more and keeps F(theta') when theta' is not
# below theta_0. Their paths differ, so the comparison is of the maximum each reaches. R's
# run stops on turboEM's parameter rule at tol = 1e-10 (the L2 change of its parameter
# vector). `maps` counts every call of the map here (turboEM's fpeval counts one of the
# two maps of each step).
#
# Printed per run: data, K, start, maps, objective evaluations, final log-likelihood in
# the data's units.

suppressPackageStartupMessages({
  library(doParallel)
  library(numDeriv)
  library(quantreg)
})
source(Sys.getenv("TURBOEM_R"))
source("tests/r/em_map.R")

waiting <- read_column("tests/data/faithful.csv", "waiting")
galaxies <- read_column("tests/data/galaxies.csv", "velocity")
starts <- list(
  list("waiting", waiting, c(0.5, 0.5), c(55, 80), c(30, 30)),
  list("waiting", waiting, c(0.3, 0.7), c(50, 75), c(100, 40)),
  list("waiting", waiting, c(1, 1, 1) / 3, c(50, 65, 80), c(25, 25, 25)),
  list("waiting", waiting, c(0.2, 0.3, 0.5), c(48, 60, 82), c(20, 50, 30)),
  list("galaxies", galaxies, c(0.1, 0.5, 0.4), c(10000, 20000, 23000), c(1e6, 4e6, 4e6)),
  list(
    "galaxies", galaxies, c(0.1, 0.4, 0.4, 0.1), c(9500, 19500, 22500, 33000),
    c(5e5, 1e6, 1e6, 1e6)
  )
)

for (i in seq_along(starts)) {
  s <- starts[[i]]
  std <- standardise(s[[2]])
  K <- length(s[[3]])
  par <- to_par(s[[3]], (s[[4]] - std$centre) / std$scale, s[[5]] / std$scale^2)
  maps <- 0
  counted_map <- function(p, z, K) {
    maps <<- maps + 1
    em_map(p, z, K)
  }
  # accelerate() is what turboem() runs for each method (turboem() loads the installed
  # package in a foreach loop).
  fit <- suppressWarnings(accelerate(
    par,
    fixptfn = counted_map, objfn = function(p, z, K) -loglik(p, z, K), method = "qn",
    z = std$z, K = K, control = list(tol = 1e-10, maxiter = 20000)
  )) # its warning asks for pconstr: every point of this parameterisation is valid
  value <- -fit$value.objfn - length(std$z) * log(std$scale)
  cat(sprintf(
    "(\"%s\", %d, %d, %d, %d, %.17g),\n", s[[1]], K, i, maps, fit$objfeval, value
  ))
}

# R's SQUAREM (squarem1, method = 1, 2, 3) on fastem's EM map (em_map.R), from the starts
# that tests/test_accelerators.py gives fastem: the numbers that test holds.
#
# Controls that make R run fastem's algorithm:
# - objfn.inc = 0: an extrapolation is kept only when the log-likelihood does not fall;
# - tol = 0 and a budget of maps (maxiter): R never stops on its own rule, whose norm
#   differs from fastem's, so each run ends after whole steps once maxiter maps are
#   spent, and fastem runs the same number of steps (max_iter = steps, tol = 0).
# One difference remains: R tests the stabilised F(theta'), fastem theta' itself. They
# decide alike unless l(theta') < l(theta_0) <= l(F(theta')), where R keeps the step and
# fastem falls back to theta_2. The map below logs the log-likelihood of each point it
# maps and the objective's calls, from which `agree` says whether that case arose in the
# run by more than 1e-8 (TRUE: it did not, and fastem must follow R's path; near the
# maximum the two log-likelihoods tie to rounding, which decides either way in either
# program, and both then stay at the maximum).
#
# Printed per run: data, K, start, method, steps (iter - 1), fpevals, the final
# log-likelihood in the data's units, agree.
#
# Run from the repository's root: Rscript tests/r/squarem.R

suppressPackageStartupMessages(library(SQUAREM))
source("tests/r/em_map.R")

waiting <- read_column("tests/data/faithful.csv", "waiting")
galaxies <- read_column("tests/data/galaxies.csv", "velocity")

# Starting values in the data's units: weights, means, variances; and a budget of maps
# (past it R's step lengths become 0/0 at the converged point and it stops on an error).
starts <- list(
  list("waiting", waiting, c(0.5, 0.5), c(55, 80), c(30, 30), 20),
  list("waiting", waiting, c(0.3, 0.7), c(50, 75), c(100, 40), 20),
  list("waiting", waiting, c(1, 1, 1) / 3, c(50, 65, 80), c(25, 25, 25), 60),
  list("waiting", waiting, c(0.2, 0.3, 0.5), c(48, 60, 82), c(20, 50, 30), 60),
  list("galaxies", galaxies, c(0.1, 0.5, 0.4), c(10000, 20000, 23000), c(1e6, 4e6, 4e6), 20),
  list(
    "galaxies", galaxies, c(0.1, 0.4, 0.4, 0.1), c(9500, 19500, 22500, 33000),
    c(5e5, 1e6, 1e6, 1e6), 60
  )
)

# Whether no step of the logged run kept an extrapolation that fastem's rule rejects by
# more than 1e-8 (R's rule rejects no step that fastem's keeps): the events are
# the log-likelihoods of mapped points and NA for each call of the objective. A step's
# maps end at the objective's call; two calls in a row mean R rejected the step.
agrees <- function(events) {
  maps <- c()
  i <- 1
  while (i <= length(events)) {
    if (is.na(events[i])) {
      rejected <- i < length(events) && is.na(events[i + 1])
      if (length(maps) == 3 && !rejected && maps[3] < maps[1] - 1e-8) {
        return(FALSE)
      }
      maps <- c()
      i <- i + if (rejected) 2 else 1
    } else {
      maps <- c(maps, events[i])
      i <- i + 1
    }
  }
  TRUE
}

for (i in seq_along(starts)) {
  s <- starts[[i]]
  std <- standardise(s[[2]])
  K <- length(s[[3]])
  par <- to_par(s[[3]], (s[[4]] - std$centre) / std$scale, s[[5]] / std$scale^2)
  for (method in 1:3) {
    events <- c()
    logged_map <- function(p, z, K) {
      events <<- c(events, loglik(p, z, K))
      em_map(p, z, K)
    }
    logged_objective <- function(p, z, K) {
      events <<- c(events, NA)
      -loglik(p, z, K)
    }
    fit <- squarem(
      par,
      fixptfn = logged_map, objfn = logged_objective, z = std$z, K = K,
      control = list(method = method, maxiter = s[[6]], tol = 0, objfn.inc = 0)
    )
    value <- -fit$value.objfn - length(std$z) * log(std$scale)
    cat(sprintf(
      "(\"%s\", %d, %d, %d, %d, %d, %.17g, %s),\n",
      s[[1]], K, i, method, fit$iter - 1, fit$fpevals, value,
      if (agrees(events[-1])) "True" else "False"
    ))
  }
}

# R's daarem (Henderson & Varadhan, CRAN package daarem 0.7) on fastem's EM map
# (tests/r/em_map.R) from given starts: the passes and log-likelihoods that
# tests/test_daarem.py compares with fastem's algorithm="daarem" from the same starts.
#
# daarem is not in Debian: source its R files (R/daarem.R, R/daarem_base_objfn.R,
# R/DampingFind.R of github.com/cran/daarem, or of the CRAN tarball) from a directory,
#
#   DAAREM_R=/path/to/daarem/R Rscript tests/r/daarem.R
#
# or install the package (then DAAREM_R is not needed).
#
# The controls make daarem's algorithm fastem's:
# - mon.tol = 0: fastem never accepts a proposal whose log-likelihood is below the
#   current one's (daarem's default tolerates a decrease of 0.01); with it, daarem's cycle
#   check (cycl.mon.tol) never fires, as in fastem;
# - convtype = "objfn" with tol = n * 1e-10: fastem's stop="loglik", tol=1e-10 (the
#   change of the log-likelihood per point);
# - order, alpha, kappa: daarem's defaults, as fastem's.
# Passes: fastem computes a point's map and its log-likelihood in one pass over the
# data, so the passes R's daarem makes are the distinct points at which it calls the
# map or the objective (counted below); fpevals and objfevals are daarem's own counts.

here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
source(file.path(here, "em_map.R"))
if (nzchar(Sys.getenv("DAAREM_R"))) {
  for (f in c("daarem.R", "daarem_base_objfn.R", "DampingFind.R")) {
    source(file.path(Sys.getenv("DAAREM_R"), f))
  }
} else {
  library(daarem)
}

# daarem from a start given in the data's units; returns its counts and log-likelihood
# (in the data's units).
run <- function(x, weights, means, variances) {
  s <- standardise(x)
  K <- length(weights)
  seen <- new.env()
  visit <- function(par) assign(paste(sprintf("%a", par), collapse = " "), TRUE, envir = seen)
  fixptfn <- function(par) {
    visit(par)
    em_map(par, s$z, K)
  }
  objfn <- function(par) {
    visit(par)
    loglik(par, s$z, K)
  }
  start <- to_par(weights, (means - s$centre) / s$scale, variances / s$scale^2)
  fit <- daarem(start, fixptfn, objfn,
    control = list(
      mon.tol = 0, convtype = "objfn", tol = length(x) * 1e-10, maxiter = 20000
    )
  )
  c(
    fpevals = fit$fpevals, objfevals = fit$objfevals, passes = length(ls(seen)),
    loglik = fit$value.objfn - length(x) * log(s$scale)
  )
}

waiting <- read_column(file.path(here, "..", "data", "faithful.csv"), "waiting")
velocity <- read_column(file.path(here, "..", "data", "galaxies.csv"), "velocity")
starts <- list(
  list("faithful", waiting, c(0.5, 0.5), c(55, 80), c(30, 30)),
  list("faithful", waiting, c(0.2, 0.8), c(60, 70), c(100, 100)),
  list("faithful", waiting, c(0.3, 0.4, 0.3), c(50, 70, 85), c(20, 20, 20)),
  list("faithful", waiting, c(0.2, 0.3, 0.5), c(55, 75, 82), c(40, 30, 20)),
  list("galaxies", velocity, c(0.1, 0.4, 0.4, 0.1), c(10000, 20000, 23000, 33000), rep(2e6, 4)),
  list("galaxies", velocity, c(0.3, 0.4, 0.3), c(15000, 21000, 25000), rep(4e6, 3))
)
options(digits = 17)
for (start in starts) {
  result <- do.call(run, start[-1])
  cat(sprintf(
    "(\"%s\", %s, %s, %s, %d, %d, %d, %.17g),\n", start[[1]],
    paste0("[", paste(start[[3]], collapse = ", "), "]"),
    paste0("[", paste(start[[4]], collapse = ", "), "]"),
    paste0("[", paste(format(start[[5]], scientific = FALSE), collapse = ", "), "]"),
    result[["fpevals"]], result[["objfevals"]], result[["passes"]], result[["loglik"]]
  ))
}

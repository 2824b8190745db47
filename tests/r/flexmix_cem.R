# Reference numbers of tests/test_classification.py: flexmix's CEM on faithful's waiting
# times (K = 2, 3) and the galaxies' velocities (K = 3, 4), each from the partition of a
# given mixture theta0, from which fastem's CEM starts too.
#
#   Rscript tests/r/flexmix_cem.R
#
# flexmix's CEM (FLXcontrol(classify = "CEM")) is given the partition by theta0, which
# fastem's first CEM iteration makes from theta0. flexmix's gaussian driver (FLXMRglm)
# divides the residual sum of squares by n - 1 times mean(w), not by sum(w): this script gives flexmix a driver of the same
# component with the maximum-likelihood variance sum(w r^2) / sum(w) (the M-step fastem
# and mixtools run), and keeps flexmix's CEM loop, its priors (the share of points of each
# component) and its log-likelihood. minprior = 0 keeps every component; a tolerance of
# 1e-15 stops at the first iteration whose log-likelihood is the one before, which CEM
# reaches when its partition no longer changes. The weights are the shares of the final
# partition (fit@size / n), which flexmix's loop uses as priors and its log-likelihood
# reads; flexmix's prior(fit) is instead the mean of the soft posteriors of the last
# E-step.
suppressPackageStartupMessages(library(flexmix))

normal_ml <- function(formula = . ~ .) {
  z <- new("FLXMRglm", weighted = TRUE, formula = formula, name = "normal (ML variance)",
           family = "gaussian")
  z@defineComponent <- function(para) {
    predict <- function(x, ...) x %*% para$coef
    logLik <- function(x, y, ...) dnorm(y, mean = predict(x, ...), sd = para$sigma, log = TRUE)
    new("FLXcomponent", parameters = list(coef = para$coef, sigma = para$sigma),
        logLik = logLik, predict = predict, df = para$df)
  }
  z@fit <- function(x, y, w, component) {
    mean <- sum(w * y) / sum(w)
    z@defineComponent(list(coef = mean, df = 2, sigma = sqrt(sum(w * (y - mean)^2) / sum(w))))
  }
  z
}

# The partition of the points by their most probable component under the start, as a
# matrix of 0/1 posteriors: flexmix's CEM begins with an M-step of the given posteriors
# (given soft posteriors, its first M-step would be EM's), then alternates classification
# and M-steps; fastem's CEM from the start classifies first, so both then take the M-step
# of this partition.
partition <- function(x, w, mu, var) {
  p <- sapply(seq_along(w), function(k) w[k] * dnorm(x, mu[k], sqrt(var[k])))
  1 * (col(p) == max.col(p, ties.method = "first"))
}

cem <- function(name, x, w, mu, var) {
  fit <- flexmix(x ~ 1, k = length(w), cluster = partition(x, w, mu, var),
                 model = normal_ml(),
                 control = list(classify = "CEM", minprior = 0, tolerance = 1e-15,
                                iter.max = 1000))
  p <- parameters(fit)
  cat(sprintf("%s: iter %d converged %s\n", name, fit@iter, fit@converged))
  cat(sprintf("  weights   %s\n", paste(sprintf("%.17g", fit@size / length(x)), collapse = ", ")))
  cat(sprintf("  means     %s\n", paste(sprintf("%.17g", p["coef", ]), collapse = ", ")))
  cat(sprintf("  variances %s\n", paste(sprintf("%.17g", p["sigma", ]^2), collapse = ", ")))
  cat(sprintf("  logLik    %.17g\n", fit@logLik))
}

here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
waiting <- read.csv(file.path(here, "..", "data", "faithful.csv"))$waiting
velocity <- read.csv(file.path(here, "..", "data", "galaxies.csv"))$velocity

cem("faithful K=2", waiting, c(0.5, 0.5), c(60, 70), c(100, 100))
cem("faithful K=3", waiting, c(0.3, 0.4, 0.3), c(50, 70, 85), c(30, 30, 30))
cem("galaxies K=3", velocity, c(0.2, 0.6, 0.2), c(10000, 21000, 30000), c(4e6, 4e6, 4e6))
cem("galaxies K=4", velocity, c(0.1, 0.4, 0.4, 0.1),
    c(9000, 19000, 23000, 33000), c(1e6, 2e6, 2e6, 1e6))

# MixtureInf's EM-test (emtest.norm, version 1.1, Li, Chen & Li; CRAN, github.com/cran/MixtureInf)
# from fastem's null fits: the numbers tests/test_emtest.py compares with fastem.emtest.
#
# MixtureInf is not in Debian: source its R files (R/*.R of github.com/cran/MixtureInf or of
# the CRAN tarball; it needs quadprog) from a directory,
#
#   MIXTUREINF_R=/path/to/MixtureInf/R Rscript tests/r/emtest.R
#
# emtest.norm draws the null fit from random starts (and, for m0 = 1, uses var(x), the
# n - 1 variance); to compare the EM-test itself, its parts are called here from fastem's
# penalised null fit (fastem.fit's with penalty="ctz"; the `nulls` below, printed by
# fastem.emtest with 17 digits), with its
# defaults (pens = c(1, 0.25) for m0 = 1, formula2's variance penalty for m0 = 2; len = 10,
# niter = 50, k = 3) but tol = 1e-13 and no limit of 2000 iterations, so that the
# fixed-beta fit of each alternative reaches its maximum whatever its random starts.
#
# Two versions of the alternative's iterations are run:
# - "mixtureinf": MixtureInf's own maxmm.norm (with iter2.norm) and emiter.norm. Their
#   variance update sums (x - mu)^2 around the mean *before* the update, and iter2.norm
#   bounds a mean after computing the variance around the unbounded old mean, so an
#   iteration is not the M-step of the penalised objective it states;
# - "exact": the same code with the exact penalised M-step (the variance around the new,
#   bounded mean), which is fastem's. Both have the same fixed points with the betas
#   fixed; the k = 3 EM-test iterations that follow differ slightly.
# Printed: dataset, m0, variance penalty, statistic and p-value of both versions.

dir <- Sys.getenv("MIXTUREINF_R")
for (f in list.files(dir, pattern = "\\.R$", full.names = TRUE)) source(f)
suppressMessages(library(quadprog))

here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
read <- function(name, column) read.csv(file.path(here, "..", "data", paste0(name, ".csv")))[[column]]
data <- list(faithful = read("faithful", "waiting"), galaxies = read("galaxies", 1),
             acidity = read("acidity", 1))

nulls <- list(
  "faithful-1" = list(c(1), c(70.897058823529406), c(184.14411768937384)),
  "galaxies-1" = list(c(1), c(20828.170731707316), c(20574570.705206092)),
  "acidity-1" = list(c(1), c(5.1050964322580645), c(1.0784115922788782)),
  "faithful-2" = list(c(0.36095849514082973, 0.63904150485917033), c(54.618373927028316, 80.091969574135049), c(34.708622793701764, 34.533468199837436)),
  "galaxies-2" = list(c(0.085162459110334793, 0.91483754088966529), c(9709.5098189116306, 21863.209700950756), c(811388.20466388133, 9925063.8108253665)),
  "acidity-2" = list(c(0.59685675544757455, 0.40314324455242551), c(4.3312278852806632, 6.2508149239685107), c(0.14135570867655911, 0.27092675563432839))
)

# iter2.norm with the exact penalised M-step: the mean bounded, then the variance around it.
iter2.exact <- function(x, para, beta, an, para0) {
  m <- length(beta); mu0 <- para0[[2]]; sigma0 <- para0[[3]]
  alpha <- para[1:(2 * m)]; mu <- para[(2 * m + 1):(4 * m)]; sigma <- para[(4 * m + 1):(6 * m)]
  eta <- c(min(x), if (m > 1) (mu0[1:(m - 1)] + mu0[2:m]) / 2, max(x))
  pdf.component <- sapply(1:(2 * m), function(j) dnorm(x, mu[j], sqrt(sigma[j])) * alpha[j])
  w <- pdf.component / rowSums(pdf.component)
  s0 <- colSums(w)
  h <- rep(1:m, each = 2)
  mu <- pmin(pmax(colSums(w * x) / s0, eta[h]), eta[h + 1])
  sigma <- (colSums(w * outer(x, mu, "-")^2) + 2 * an * sigma0[h]) / (s0 + 2 * an)
  share <- (s0[2 * (1:m) - 1] + s0[2 * (1:m)]) / length(x)
  alpha <- as.vector(rbind(share * beta, share * (1 - beta)))
  pdf.component <- sapply(1:(2 * m), function(j) dnorm(x, mu[j], sqrt(sigma[j])) * alpha[j])
  c(alpha, mu, sigma, sum(log(rowSums(pdf.component))) + sum(pn(sigma, sigma0[h], an)))
}

# emiter.norm with the exact penalised M-step (the variance around the new mean).
emiter.exact <- function(x, para, beta, pens, para0, k) {
  m <- length(beta); n <- length(x); h <- rep(1:m, each = 2); sigma0 <- para0[[3]][h]
  alpha <- para[1:(2 * m)]; mu <- para[(2 * m + 1):(4 * m)]; sigma <- para[(4 * m + 1):(6 * m)]
  for (i in 1:k) {
    pdf.component <- sapply(1:(2 * m), function(j) dnorm(x, mu[j], sqrt(sigma[j])) * alpha[j])
    w <- pdf.component / rowSums(pdf.component)
    ww <- colSums(w)
    mu <- colSums(w * x) / ww
    sigma <- (colSums(w * outer(x, mu, "-")^2) + 2 * pens[2] * sigma0) / (ww + 2 * pens[2])
    for (j in 1:m) {
      if (ww[2 * j - 1] / (ww[2 * j - 1] + ww[2 * j]) <= 0.5)
        beta[j] <- min((ww[2 * j - 1] + pens[1]) / (ww[2 * j - 1] + ww[2 * j] + pens[1]), 0.5)
      else
        beta[j] <- max(ww[2 * j - 1] / (ww[2 * j - 1] + ww[2 * j] + pens[1]), 0.5)
    }
    share <- (ww[2 * (1:m) - 1] + ww[2 * (1:m)]) / n
    alpha <- as.vector(rbind(share * beta, share * (1 - beta)))
  }
  pdf.component <- sapply(1:(2 * m), function(j) dnorm(x, mu[j], sqrt(sigma[j])) * alpha[j])
  sum(log(rowSums(pdf.component))) + pens[1] * sum(log(1 - abs(1 - 2 * beta))) +
    sum(pn(sigma, sigma0, pens[2]))
}

# maxmm.norm's search (random starts, niter iterations, the best to convergence) with a
# given iteration, tol = 1e-13 and no limit of 2000 iterations.
maxmm <- function(x, beta, an, para0, iterate, len = 10, niter = 50, tol = 1e-13) {
  m <- length(beta); eta <- c(min(x), if (m > 1) (para0[[2]][1:(m - 1)] + para0[[2]][2:m]) / 2, max(x))
  best <- NULL
  for (i in 1:len) {
    alpha <- as.vector(rbind(para0[[1]] * beta, para0[[1]] * (1 - beta)))
    mu <- unlist(lapply(1:m, function(j) runif(2, eta[j], eta[j + 1])))
    sigma <- unlist(lapply(1:m, function(j) runif(2, 0.25 * para0[[3]][j], 2 * para0[[3]][j])))
    out <- c(alpha, mu, sigma)
    for (j in 1:niter) out <- iterate(x, out[1:(6 * m)], beta, an, para0)
    if (is.null(best) || out[6 * m + 1] > best[6 * m + 1]) best <- out
  }
  repeat {
    out <- iterate(x, best[1:(6 * m)], beta, an, para0)
    done <- out[6 * m + 1] - best[6 * m + 1] <= tol
    best <- out
    if (done) break
  }
  best[1:(6 * m)]
}

loglik <- function(x, para0) sum(log(rowSums(sapply(seq_along(para0[[1]]), function(j)
  dnorm(x, para0[[2]][j], sqrt(para0[[3]][j])) * para0[[1]][j]))))

emtest <- function(x, m0, para0, iterate, emiter) {
  pens <- c(1, if (m0 == 1) 0.25 else formula2(para0, length(x)))
  bbeta <- as.matrix(expand.grid(rep(list(c(0.1, 0.3, 0.5)), m0)))
  pl <- apply(bbeta, 1, function(beta) {
    para1 <- maxmm(x, beta, pens[2], para0, iterate)
    emiter(x, para1, beta, pens, para0, 3)
  })
  emstat <- 2 * (max(pl) - loglik(x, para0))
  c(pens[2], emstat, pchisq(emstat, 2 * m0, lower.tail = FALSE))
}

set.seed(28)
options(digits = 15)
for (key in names(nulls)) {
  parts <- strsplit(key, "-")[[1]]
  x <- data[[parts[1]]]; m0 <- as.integer(parts[2]); para0 <- nulls[[key]]
  exact <- emtest(x, m0, para0, iter2.exact, emiter.exact)
  own <- emtest(x, m0, para0, iter2.norm, function(x, para, beta, pens, para0, k)
    emiter.norm(x, para, beta, pens, para0, k)[6 * m0 + 1])
  cat(sprintf("%s %d penalty %.15g exact %.15g %.15g mixtureinf %.15g %.15g\n",
              parts[1], m0, exact[1], exact[2], exact[3], own[2], own[3]))
}

# Check fastem's best known maxima (docs/panel/best_known.py) against R, on the panel datasets that
# docs/panel/export_panel.R writes. Run from the repository root:
#
#     Rscript docs/panel/r_check.R      # writes tests/data/panel/r_check.csv
#     python docs/panel/best_known.py --merge-only   # fills maxima.csv's mclust/mixtools columns
#
# For every dataset and K = 1..5:
#   mclust:   Mclust(x, G = K, modelNames = "V" (unequal) or "E" (equal)), default hierarchical
#             (hc) initialisation and EM settings; for K = 1 one row ("-", mclust's model "X").
#   mixtools: normalmixEM(x, k = K, arbvar = TRUE (unequal) or FALSE (equal)) from 50 random starts
#             (set.seed(1), ..., set.seed(50); mixtools' own starting values), maxit = 5000, default
#             epsilon = 1e-8. mixtools_loglik is the best among non-degenerate runs: finite
#             log-likelihood and not spurious by fastem's default rule (a component with n * weight < 5
#             and variance < 0.01 times the largest). normalmixEM cannot fit K = 1 (NA).
# The columns *_spurious say whether that fit is spurious by the same rule; mixtools_best_any is
# the best log-likelihood among all finished runs, spurious ones included.

suppressPackageStartupMessages({
  library(mclust)
  library(mixtools)
})

panel_dir <- file.path("tests", "data", "panel")
datasets <- c("faithful_waiting", "faithful_eruptions", "galaxies", "geyser_duration",
              "geyser_waiting", "acidity", "test1d_x1", "precip", "log_rivers", "quakes_mag",
              "cats_hwt", "log_mammals_body", "banknote_diagonal", "tonedata_tuned")
n_starts <- 50
max_k <- 5

num <- function(v) if (length(v) == 0 || all(is.na(v))) "" else paste(sprintf("%.17g", v), collapse = " ")
spurious <- function(n, w, v) any(n * w < 5 & v < 0.01 * max(v))

rows <- list()
started <- proc.time()
for (name in datasets) {
  x <- read.csv(file.path(panel_dir, paste0(name, ".csv")))[[1]]
  n <- length(x)
  for (k in 1:max_k) {
    variances <- if (k == 1) "-" else c("unequal", "equal")
    for (variance in variances) {
      model <- if (variance == "equal") "E" else "V"
      # mclust, default hc initialisation
      fit <- tryCatch(Mclust(x, G = k, modelNames = model, verbose = FALSE), error = function(e) NULL)
      if (is.null(fit)) {
        mc <- list(model = "", loglik = NA, w = NA, m = NA, v = NA, spur = NA)
      } else {
        w <- fit$parameters$pro
        if (is.null(w)) w <- 1
        m <- fit$parameters$mean
        v <- rep_len(fit$parameters$variance$sigmasq, k)
        o <- order(m)
        mc <- list(model = fit$modelName, loglik = fit$loglik, w = w[o], m = m[o], v = v[o],
                   spur = spurious(n, w, v))
      }
      # mixtools, random starts
      mx <- list(loglik = NA, any = NA, ok = 0, failed = 0, w = NA, m = NA, v = NA)
      if (k >= 2) {
        best <- -Inf
        best_any <- -Inf
        for (s in seq_len(n_starts)) {
          set.seed(s)
          r <- tryCatch({
            invisible(capture.output(f <- normalmixEM(x, k = k, arbvar = (variance == "unequal"),
                                                      maxit = 5000)))
            f
          }, error = function(e) NULL)
          if (is.null(r) || !is.finite(r$loglik)) {
            mx$failed <- mx$failed + 1
            next
          }
          v <- rep_len(r$sigma^2, k)
          best_any <- max(best_any, r$loglik)
          if (spurious(n, r$lambda, v) || any(v <= 1e-12 * var(x))) next
          mx$ok <- mx$ok + 1
          if (r$loglik > best) {
            best <- r$loglik
            o <- order(r$mu)
            mx$w <- r$lambda[o]; mx$m <- r$mu[o]; mx$v <- v[o]
          }
        }
        mx$loglik <- if (is.finite(best)) best else NA
        mx$any <- if (is.finite(best_any)) best_any else NA
      }
      rows[[length(rows) + 1]] <- data.frame(
        dataset = name, n = n, n_components = k, variance = variance,
        mclust_model = mc$model, mclust_loglik = num(mc$loglik), mclust_spurious = mc$spur,
        mclust_weights = num(mc$w), mclust_means = num(mc$m), mclust_variances = num(mc$v),
        mixtools_loglik = num(mx$loglik), mixtools_best_any = num(mx$any),
        mixtools_n_ok = mx$ok, mixtools_n_failed = mx$failed,
        mixtools_n_runs = if (k >= 2) n_starts else 0,
        mixtools_weights = num(mx$w), mixtools_means = num(mx$m), mixtools_variances = num(mx$v),
        stringsAsFactors = FALSE)
      cat(sprintf("%-19s K=%d %-7s mclust %-20s mixtools %-20s (%d ok, %d failed)  %.0fs\n", name, k,
                  variance, num(mc$loglik), num(mx$loglik), mx$ok, mx$failed,
                  (proc.time() - started)[["elapsed"]]))
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(panel_dir, "r_check.csv"), row.names = FALSE, na = "NA")
cat(sprintf("R %s, mclust %s, mixtools %s; %.0f s\n", getRversion(), packageVersion("mclust"),
            packageVersion("mixtools"), (proc.time() - started)[["elapsed"]]))

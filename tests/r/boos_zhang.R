# simhelpers' extrapolate_rejection (Boos & Zhang 2000's extrapolation of a bootstrap
# test's rejection rate to B = infinity, from the rates at B = 19, 39, 59) on a fixed set
# of statistics: the reference numbers of tests/test_study_tests.py.
#
# extrapolate_rejection is in simhelpers' development version (github.com/jepusto/
# simhelpers, R/calc_rejection.R, with get_B_wts of R/bootstrap-projection.R), not in
# CRAN's 0.3.1: source a file holding extrapolate_rejection, project_rejection_rate and
# get_B_wts,
#
#   SIMHELPERS_R=/path/to/extrapolate_rejection.R Rscript tests/r/boos_zhang.R
#
# or install a simhelpers that has it (then SIMHELPERS_R is not needed).
#
# The statistics are Weyl sequences, the same bits in R and NumPy, with no ties: dataset
# d (from 0) has the statistic frac((d + 1) sqrt(2)) and replicates b = 0..58 the
# statistics frac((59 d + b + 1) (sqrt(5) - 1) / 2). Each dataset's p-value at B is
# simhelpers' mean(boot[1:B] > stat) (its p-values of the first B replicates: one
# subsample per B, as fastem's study takes them), and simhelpers rejects at p < alpha,
# which without ties is fastem's (1 + #{boot >= stat}) / (B + 1) <= alpha when
# (B + 1) alpha is whole.

if (nzchar(Sys.getenv("SIMHELPERS_R"))) {
  source(Sys.getenv("SIMHELPERS_R"))
} else {
  library(simhelpers)
}

n_datasets <- 200
B_vals <- c(19, 39, 59)
golden <- (sqrt(5) - 1) / 2
subsamples <- lapply(0:(n_datasets - 1), function(d) {
  stat <- ((d + 1) * sqrt(2)) %% 1
  boot <- ((59 * d + 0:58 + 1) * golden) %% 1
  out <- data.frame(bootstraps = B_vals)
  out$pval <- lapply(B_vals, function(B) mean(boot[1:B] > stat))
  out
})
result <- extrapolate_rejection(
  pvalue_subsamples = subsamples, B_target = Inf, alpha = c(.05, .10)
)
print(format(result, digits = 17), width = 200)

# MixtureInf 1.1's penalised fit, pmle.norm(x, m0 = 2), on faithful's waiting, from a fixed
# start (no random starts), run to its fixed point; as tests/test_priors.py holds it.
#
# MixtureInf is not on CRAN any more: its source comes from its GitHub mirror (cran/
# MixtureInf, version 1.1); the functions pmle.norm needs are sourced from it. Its
# iter1.norm updates a variance as (S_k + 2 var(x) / sqrt(n)) / (n_k + 2 / n), and its
# penalised log-likelihood uses pn(sigma, var(x), 1 / n), a_n = 1 / n.
#
# Run from the repository's root, with MixtureInf's R directory in MIXTUREINF_R:
#   MIXTUREINF_R=/path/to/MixtureInf/R Rscript tests/r/mixtureinf_pmle.R
for (f in c("iter1.norm.R", "phi.norm.R", "pn.R", "pmle.norm.R", "rousignif.R")) {
  source(file.path(Sys.getenv("MIXTUREINF_R"), f))
}
x <- read.csv(file.path("tests", "data", "faithful.csv"))$waiting
fit <- pmle.norm(x, m0 = 2, inival = c(0.36, 0.64, 54.6, 80.1, 34, 34), niter = 5000,
                 tol = 1e-14, rformat = TRUE)
cat(sprintf("%.17g", unlist(fit)), sep = ", ")
cat("\n")

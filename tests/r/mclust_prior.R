# mclust's MAP fits with its default conjugate prior, Mclust(x, G, modelNames = "E" or "V",
# prior = priorControl()), on the three datasets of tests/data (faithful's waiting,
# galaxies, acidity), G = 2..4, as tests/test_priors.py holds them.
#
# EM runs on well past mclust's default tolerance (tol = 0: every one of 20000
# iterations, or until the log-likelihood no longer changes at all), so that the printed
# estimates are the maximum itself, to about 1e-12, and not a point 1e-5 short of it.
# Each line: dataset, model, G, then the weights, means and variances (mclust's
# pro, mean, variance$sigmasq, components in mclust's order), mclust's loglik and BIC.
#
# Run from the repository's root: Rscript tests/r/mclust_prior.R  (mclust 6.0.0)
suppressMessages(library(mclust))

control <- emControl(tol = c(0, sqrt(.Machine$double.eps)), itmax = c(20000, .Machine$integer.max))
for (name in c("faithful", "galaxies", "acidity")) {
  table <- read.csv(file.path("tests", "data", paste0(name, ".csv")))
  x <- if (name == "faithful") table$waiting else table[[1]]
  for (model in c("E", "V")) {
    for (g in 2:4) {
      fit <- Mclust(x, G = g, modelNames = model, prior = priorControl(), control = control,
                    verbose = FALSE)
      p <- fit$parameters
      sigmasq <- rep_len(p$variance$sigmasq, g)
      values <- c(p$pro, p$mean, sigmasq, fit$loglik, fit$bic)
      cat(sprintf('    ("%s", "%s", %d): [%s],\n', name, model, g,
                  paste(sprintf("%.17g", values), collapse = ", ")))
    }
  }
}

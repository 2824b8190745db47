# The merges of mclust's model-based hierarchical clustering, hc(x, modelName = "V") and
# "E", on the three datasets of tests/data, as tests/test_hc.py holds them.
#
# A group is named by the rank of its smallest distinct value (0 for the smallest value of
# the dataset): hc starts from one group per distinct value (mclust's dupPartition), and a
# merge of groups a < b keeps the name a. The script prints, for each dataset, model and
# transformation of the data (use = "SVD", Mclust's default mclust.options("hcUse"), and
# "VARS", hc's own default), the merges in order as "a-b" pairs; tests/test_hc.py holds the
# "SVD" lines (fastem computes mclust's prior-like term in those units).
#
# Run from the repository's root: Rscript tests/r/hc.R  (mclust 6.0.0)
suppressMessages(library(mclust))

merges <- function(x, h) {
  u <- sort(unique(x))
  at <- match(u, x)  # one point of each distinct value, in increasing order
  parts <- hclass(h, seq_len(length(u)))[at, , drop = FALSE]
  name <- function(labels) tapply(seq_along(labels) - 1, labels, min)  # label -> name
  out <- character(0)
  for (g in rev(seq_len(length(u)))[-length(u)]) {
    before <- parts[, g]
    after <- parts[, g - 1]
    joined <- names(which(tapply(before, after, function(l) length(unique(l))) == 2))
    pair <- sort(name(before)[as.character(unique(before[after == as.numeric(joined)]))])
    out <- c(out, paste(pair, collapse = "-"))
  }
  out
}

for (name in c("faithful", "galaxies", "acidity")) {
  table <- read.csv(file.path("tests", "data", paste0(name, ".csv")))
  x <- if (name == "faithful") table$waiting else table[[1]]
  for (use in c("SVD", "VARS")) {
    for (model in c("V", "E")) {
      cat(name, model, use, ":", paste(merges(x, hc(x, modelName = model, use = use)), collapse = " "), "\n")
    }
  }
}

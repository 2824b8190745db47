# Export the fastem panel: real one-dimensional datasets with mixture structure, one CSV per dataset
# (one numeric column with a quoted header, as write.csv(..., row.names = FALSE) writes it), into
# tests/data/panel/.  Re-run from the repository root:
#
#     Rscript docs/panel/export_panel.R
#
# Needs R with MASS, mclust and mixtools (Debian: r-base-core r-cran-mass r-cran-mclust r-cran-mixtools).
# NAs are dropped; values are written as R stores them (write.csv keeps 15 significant digits).
#
# file                    n     source
# faithful_waiting        272   datasets::faithful$waiting   Old Faithful, minutes to the next eruption
# faithful_eruptions      272   datasets::faithful$eruptions Old Faithful, eruption length (min)
# galaxies                82    MASS::galaxies / 1000        velocities of galaxies in the Corona
#                                                            Borealis region, 1000 km/s (as mclust's and
#                                                            Richardson & Green's analyses)
# geyser_duration         299   MASS::geyser$duration        Old Faithful (Azzalini & Bowman 1990),
#                                                            eruption length (min); many values recorded
#                                                            as exactly 2, 3 or 4 (short/medium/long)
# geyser_waiting          299   MASS::geyser$waiting         same, minutes between eruptions
# acidity                 155   mclust::acidity              log acidity index of 155 lakes in Wisconsin
#                                                            (Richardson & Green 1997)
# test1d_x1               200   mclust::Test1D$X1            Baudry et al. (2010, JCGS) simulated example
#                                                            (from data(Baudry_etal_2010_JCGS_examples))
# precip                  70    datasets::precip             mean annual precipitation of US cities (in)
# log_rivers              141   log(datasets::rivers)        log length of North American rivers (miles)
# quakes_mag              1000  datasets::quakes$mag         Richter magnitudes of Fiji earthquakes
#                                                            (recorded to 0.1: 22 distinct values)
# cats_hwt                144   MASS::cats$Hwt               heart weights of domestic cats (g)
# log_mammals_body        62    log(MASS::mammals$body)      log body weight of 62 mammal species (kg)
# banknote_diagonal       200   mclust::banknote$Diagonal    diagonal length of Swiss banknotes (mm),
#                                                            100 genuine and 100 counterfeit
# tonedata_tuned          150   mixtools::tonedata$tuned     perceived tone ratio (Cohen 1980), mixtools'
#                                                            regression-mixture example, as a 1D sample

suppressPackageStartupMessages({
  library(MASS)
  library(mclust)
  library(mixtools)
})

out_dir <- file.path("tests", "data", "panel")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

data("Baudry_etal_2010_JCGS_examples", package = "mclust")   # Test1D and others
data("acidity", package = "mclust")
data("banknote", package = "mclust")
data("tonedata", package = "mixtools")

panel <- list(
  faithful_waiting   = list(x = datasets::faithful$waiting,   column = "waiting"),
  faithful_eruptions = list(x = datasets::faithful$eruptions, column = "eruptions"),
  galaxies           = list(x = MASS::galaxies / 1000,        column = "velocity"),
  geyser_duration    = list(x = MASS::geyser$duration,        column = "duration"),
  geyser_waiting     = list(x = MASS::geyser$waiting,         column = "waiting"),
  acidity            = list(x = acidity,                      column = "acidity"),
  test1d_x1          = list(x = Test1D$X1,                    column = "X1"),
  precip             = list(x = as.numeric(datasets::precip), column = "precip"),
  log_rivers         = list(x = log(datasets::rivers),        column = "log_length"),
  quakes_mag         = list(x = datasets::quakes$mag,         column = "mag"),
  cats_hwt           = list(x = MASS::cats$Hwt,               column = "Hwt"),
  log_mammals_body   = list(x = log(MASS::mammals$body),      column = "log_body"),
  banknote_diagonal  = list(x = banknote$Diagonal,            column = "Diagonal"),
  tonedata_tuned     = list(x = tonedata$tuned,               column = "tuned")
)

for (name in names(panel)) {
  x <- as.numeric(panel[[name]]$x)
  x <- x[is.finite(x)]
  df <- data.frame(x)
  names(df) <- panel[[name]]$column
  write.csv(df, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE)
  cat(sprintf("%-20s %5d  distinct %4d  range %.6g .. %.6g\n", name, length(x),
              length(unique(x)), min(x), max(x)))
}

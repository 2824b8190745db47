"""Figures of studies and fits (needs matplotlib: ``pip install fastem[plot]``).

``fastem fit --plot`` draws one PNG: a row of panels per dataset (the first
:data:`FIT_DATASETS`), each the data with the fit and, for a choice among candidate
models, the criterion of every candidate against the number of components
(:func:`fits_image`).

A study's figures are one PNG file each, with the fixed names of :data:`STUDY_FIGURES`
(which ``fastem study --plot`` prepares before any work), rather than one file per sample
size: each figure is a grid of panels with a row (or a column) per sample size, so that
every design cell is shown and sample sizes compare on shared axes. Beside them, the data
profile (:func:`data_profile`, :func:`profile_figure`: Moré & Wild's, per method, the share
of fits solved within a budget of passes) and any measure of the table against a design
variable (:func:`measure_lines`, :func:`measure_figure`). A figure grows with
the number of sample sizes and strategies (``iterations.png`` wraps after
:data:`ITERATION_COLUMNS` sample sizes); :func:`study_images` describes each.
"""

from __future__ import annotations

from .base import (
    FIGURE_FORMATS,
    INSTALL_HINT,
    RESOLUTION_TOL,
    bin_edges,
    figure_format,
    load_pyplot,
    mixture_density,
    mixture_log_likelihood,
    resolution,
)
from .estimates import COLLAPSED_BELOW
from .fits import (
    FIT_DATASETS,
    Candidates,
    FitPanel,
    draw_criterion,
    draw_fit,
    fit_figure,
    fit_image,
    fits_figure,
    fits_image,
)
from .layout import ITERATION_COLUMNS
from .lrt import lrt_image
from .measure import MeasureLine, design_variables, measure_figure, measure_lines
from .profile import Profile, data_profile, profile_figure
from .study import (
    STUDY_FIGURES,
    figures_of,
    measure_figure_name,
    study_figures,
    study_images,
)

__all__ = [
    "COLLAPSED_BELOW",
    "FIGURE_FORMATS",
    "FIT_DATASETS",
    "INSTALL_HINT",
    "ITERATION_COLUMNS",
    "RESOLUTION_TOL",
    "STUDY_FIGURES",
    "Candidates",
    "FitPanel",
    "MeasureLine",
    "Profile",
    "bin_edges",
    "data_profile",
    "design_variables",
    "draw_criterion",
    "draw_fit",
    "figure_format",
    "figures_of",
    "fit_figure",
    "fit_image",
    "fits_figure",
    "fits_image",
    "load_pyplot",
    "lrt_image",
    "measure_figure",
    "measure_figure_name",
    "measure_lines",
    "mixture_density",
    "mixture_log_likelihood",
    "profile_figure",
    "resolution",
    "study_figures",
    "study_images",
]

"""``fastem.plots``: an import path kept for :mod:`fastem.toolkit.plots`."""

import sys

from .toolkit import plots

sys.modules[__name__] = plots

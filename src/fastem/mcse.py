"""``fastem.mcse``: an import path kept for :mod:`fastem.toolkit.mcse`."""

import sys

from .toolkit import mcse

sys.modules[__name__] = mcse

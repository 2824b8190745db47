"""``fastem.dask``: an import path kept for :mod:`fastem.interop.dask`."""

import sys

from .interop import dask

sys.modules[__name__] = dask

"""Fitted mixtures read back from the table ``fastem fit`` writes (:func:`read_fit`), to
classify points and evaluate densities later, as :class:`fastem.FitResult` does.

The table holds each dataset's ``id``, ``n_components``, ``weight_k``, ``mean_k``,
``variance_k`` and ``log_likelihood`` (see ``fastem fit --help``), as CSV or JSON. A table of
``--all-candidates`` holds a row per candidate: the rows with ``chosen`` true are read. The
estimates are written to 6 significant digits, so posteriors and densities from a table
agree with those of the fit in memory to about that precision.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import checks as _validate
from .engine import posterior as _posterior

if TYPE_CHECKING:
    from .result import Data


@dataclass(frozen=True, eq=False)
class Mixtures:
    """One fitted mixture per dataset, with the predictions of :class:`fastem.FitResult`.

    See Also
    --------
    fastem.read_fit : the mixtures of a table of ``fastem fit``, with an example.
    """

    #: list of str, length n_datasets: the datasets' ids, as the table names them.
    ids: list
    #: ndarray of shape (n_datasets,): components of each mixture (0 for a dataset whose
    #: row has no estimates, status ``none_eligible``).
    n_components: np.ndarray
    #: ndarray of shape (n_datasets, max n_components): the weights; a mixture of fewer
    #: components than the widest is padded with components of weight 0 (mean 0, variance
    #: 1), which take no probability.
    weights: np.ndarray
    #: ndarray of shape (n_datasets, max n_components): the means, padded as the weights.
    means: np.ndarray
    #: ndarray of shape (n_datasets, max n_components): the variances, padded as the
    #: weights.
    variances: np.ndarray
    #: ndarray of shape (n_datasets,): the fit's log-likelihood (NaN for a row without
    #: estimates: its predictions are NaN).
    log_likelihood: np.ndarray

    def index(self, dataset_id: object) -> int:
        """The row of the dataset ``dataset_id`` (compared as text)."""
        try:
            return self.ids.index(str(dataset_id).strip())
        except ValueError:
            shown = ", ".join(repr(i) for i in self.ids[:5])
            more = f", ... ({len(self.ids)} in all)" if len(self.ids) > 5 else ""
            raise ValueError(
                f"no fitted mixture of dataset {str(dataset_id)!r}; the fits are of {shown}{more}"
            ) from None

    def take(self, rows: Iterable[int]) -> Mixtures:
        """The mixtures of ``rows`` (indices), in that order."""
        index = list(rows)
        return Mixtures(
            [self.ids[r] for r in index],
            self.n_components[index],
            self.weights[index],
            self.means[index],
            self.variances[index],
            self.log_likelihood[index],
        )

    def predict_proba(self, data: Data) -> np.ndarray | list[np.ndarray]:
        """Posterior probability of each component at each point: see
        :meth:`fastem.FitResult.predict_proba` (``data`` holds one dataset per mixture)."""
        log_resp, _, unpack = log_posteriors(self, data)
        return unpack(np.exp(log_resp))

    def predict(self, data: Data) -> np.ndarray | list[np.ndarray]:
        """The most probable component of each point (from 0): see
        :meth:`fastem.FitResult.predict`."""
        log_resp, _, unpack = log_posteriors(self, data)
        return unpack(np.argmax(log_resp, axis=1))

    def score_samples(self, data: Data) -> np.ndarray | list[np.ndarray]:
        """Log of the mixture density at each point: see
        :meth:`fastem.FitResult.score_samples`."""
        _, log_density, unpack = log_posteriors(self, data)
        return unpack(log_density)


def log_posteriors(mixtures, data):
    """``(log_resp, log_density, unpack)`` of the mixtures of ``mixtures`` (a
    :class:`Mixtures` or a :class:`~fastem.FitResult`) at ``data``: arrays in the packed
    layout, and a function that reshapes a per-point array to ``data``'s shape.

    ``data`` has one dataset per fitted dataset, in ``fit``'s shapes (a 2D array, a list
    of 1D arrays, or a 1D array for a result of one dataset); a 1D array with a result of
    several datasets is the same points for each of them.
    """
    weights, means, variances = (
        np.atleast_2d(np.asarray(a, dtype=np.float64))
        for a in (mixtures.weights, mixtures.means, mixtures.variances)
    )
    n_datasets = means.shape[0]
    if n_datasets > 1 and not _validate.is_dataset_list(data) and np.ndim(data) == 1:
        points = np.asarray(data, dtype=np.float64)
        data = np.broadcast_to(points, (n_datasets, points.size))
    batch = _validate.as_batch(data)
    if batch.n_datasets != n_datasets:
        raise ValueError(
            f"data holds {batch.n_datasets} dataset(s) but the result has {n_datasets} "
            "fitted mixture(s); give one dataset per fitted one (or one 1D array of points "
            "for all of them)."
        )
    _validate.check_finite(batch)
    log_resp, log_density = _posterior.log_posteriors(
        batch, weights, means, variances, mixtures.log_likelihood
    )

    def unpack(array):
        if batch.single:
            return array
        if isinstance(data, np.ndarray) and data.ndim == 2:
            return array.reshape(data.shape + array.shape[1:])
        return [array[a:b] for a, b in zip(batch.offsets[:-1], batch.offsets[1:])]

    return log_resp, log_density, unpack


def read_fit(path: str | os.PathLike) -> Mixtures:
    """The fitted mixtures of a table written by ``fastem fit`` (``--out FILE.csv`` or
    ``FILE.json``, or its standard output saved), one per row (per chosen row of an
    ``--all-candidates`` table).

    Parameters
    ----------
    path : str or path-like
        The table, a ``.csv`` or ``.json`` file.

    Returns
    -------
    Mixtures
        One mixture per row, with the row's ``id``: parameters of shape (n_rows, K) for
        the most components ``K`` of any row, padded (weight 0, mean 0, variance 1).

    Raises
    ------
    ValueError
        Naming the file, for a file that cannot be read or is not such a table.

    Examples
    --------
    Two datasets, one per row of a ``.npy`` file, fitted by the command line, which
    writes their table; ``read_fit`` reads the mixtures back, and predicts with them.

    >>> import pathlib, shutil, subprocess, sys, tempfile
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> np.save(folder / "data.npy", np.stack([x, -x]))
    >>> _ = subprocess.run([sys.executable, "-m", "fastem", "fit", folder / "data.npy",
    ...                     "--components", "2", "--out", folder / "fits.csv", "--quiet"],
    ...                    check=True)
    >>> mixtures = fastem.read_fit(folder / "fits.csv")
    >>> mixtures.ids, mixtures.n_components
    (['0', '1'], array([2, 2]))
    >>> np.round(mixtures.means, 1)
    array([[-3.,  3.],
           [-3.,  3.]])
    >>> mixtures.predict(np.array([[-3.0, 3.0], [-3.0, 3.0]]))
    array([[0, 1],
           [0, 1]])
    >>> shutil.rmtree(folder)
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path}: cannot be read ({getattr(error, 'strerror', None) or error})"
        ) from None
    records = _records(path, text)
    if records and "chosen" in records[0]:
        records = [r for r in records if _cell(r["chosen"]) in (True, "True", "true")]
    missing = [
        name
        for name in ("id", "n_components", "weight_1", "mean_1", "variance_1", "log_likelihood")
        if not records or name not in records[0]
    ]
    if missing:
        raise ValueError(
            f"{path}: not a table of 'fastem fit' (no column {missing[0]!r}); "
            "write one with fastem fit --out fits.json"
        )
    ks = [_count(path, r["n_components"]) for r in records]
    width = max(ks, default=0)
    shape = (len(records), max(width, 1))
    weights, means, variances = np.zeros(shape), np.zeros(shape), np.ones(shape)
    log_likelihood = np.full(len(records), np.nan)
    for d, (record, k) in enumerate(zip(records, ks)):
        if k == 0:  # no eligible candidate: no estimates
            continue
        for array, name in ((weights, "weight"), (means, "mean"), (variances, "variance")):
            array[d, :k] = [_number(path, record, f"{name}_{j + 1}") for j in range(k)]
        log_likelihood[d] = _number(path, record, "log_likelihood")
    return Mixtures(
        [str(r["id"]).strip() for r in records],
        np.array(ks, dtype=np.int64),
        weights,
        means,
        variances,
        log_likelihood,
    )


def _records(path, text):
    """The table's rows as dicts: a JSON list of objects, or CSV with a header row."""
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError(f"{path}: not a table of 'fastem fit' (a JSON list of rows)")
        return records
    return list(csv.DictReader(text.splitlines()))


def _cell(value):
    """A CSV cell or JSON value: None for an empty cell."""
    return None if value is None or value == "" else value


def _count(path, cell) -> int:
    value = _cell(cell)
    if value is None:
        return 0
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: n_components {value!r} is not a number of components") from None
    if count < 1:
        raise ValueError(f"{path}: n_components {value!r} is not a number of components")
    return count


def _number(path, record, name) -> float:
    value = _cell(record.get(name))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{path}: dataset {str(record['id'])!r} has no number in {name} ({value!r})"
        ) from None

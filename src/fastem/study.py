"""Monte Carlo studies of EM: simulate from a known mixture, fit, and tabulate."""

from __future__ import annotations

import time
import warnings

import numpy as np

from . import _validate, api
from ._status import Status
from .analysis import match_components
from .simulate import simulate
from .table import Table

PARAMETERS = ("weight", "mean", "variance")


def study(weights, means, variances, n_samples=(40,), replications=1000, *,
          init=("kmeans++",), n_init=5, random_state=0, init_params=None,
          at_best_tol=1e-4, **fit_options) -> Table:
    """How EM behaves on data from a known mixture, for several sample sizes and starts.

    For each sample size (a design cell), ``replications`` datasets are drawn from the
    mixture once; every starting-value strategy then fits the same datasets with
    ``n_init`` restarts ("quantile", which is deterministic, with one). One row per design
    cell and strategy:

    - ``converged``: share of all fits (restarts) that met ``tol``;
    - ``degenerate``: share of datasets whose chosen fit collapsed (``VARIANCE_FLOORED``);
    - ``iter_median``, ``iter_p90``: iterations over all fits; ``init_iter``: mean EM
      iterations spent on starting values per fit (emEM's short runs);
    - ``at_best``: share of restarts whose final log-likelihood is within ``at_best_tol``
      per point of the best any strategy found for that dataset;
    - ``{weight,mean,variance}_{k}_bias`` and ``_rmse``: of the chosen fits, after matching
      their components to the true ones (:func:`fastem.match_components`);
    - ``seconds``, ``fits_per_s``, ``mega_throughput``: wall time of the fit call, and
      millions of points x components x iterations (including emEM's) per second.

    Parameters
    ----------
    weights, means, variances : array of shape (K,)
        The true mixture; ``K`` is also the number of components fitted.
    n_samples : int or iterable of int
        Points per dataset, one design cell each.
    replications : int
        Datasets per design cell.
    init : str or iterable of str
        Starting-value strategies to compare (see :func:`fastem.fit`).
    n_init : int
        Restarts per dataset.
    random_state : int
        Seeds the simulation (per design cell) and the starts; the same value gives the
        same table, whatever the number of threads.
    init_params : dict, optional
        ``{strategy: params}`` for strategies that take options (``"emem"``).
    **fit_options
        Passed to :func:`fastem.fit` (``tol``, ``max_iter``, ``reg_variance``,
        ``equal_variance``, ...).
    """
    sizes = [n_samples] if np.ndim(n_samples) == 0 else list(n_samples)
    sizes = [_validate.check_int("n_samples", n, 1) for n in sizes]
    replications = _validate.check_int("replications", replications, 1)
    strategies = [init] if isinstance(init, str) else list(init)
    for strategy in strategies:
        _validate.check_choice("init", strategy, api.INIT_METHODS)
    seed = _validate.check_random_state(random_state)
    truth = [np.asarray(a, dtype=np.float64) for a in (weights, means, variances)]
    n_components = truth[1].size
    init_params = init_params or {}

    rows = []
    for cell, size in enumerate(sizes):
        state = np.random.SeedSequence([seed, cell]).generate_state(1, np.uint64)[0]
        cell_seed = int(state >> np.uint64(1))
        data, _ = simulate(*truth, size, replications, cell_seed)
        fits = {}
        for strategy in strategies:
            # A deterministic strategy would start every restart alike: it runs once.
            restarts = 1 if strategy == "quantile" else n_init
            start = time.perf_counter()
            with warnings.catch_warnings():
                # Collapses and non-convergence are what the study counts, not news.
                warnings.simplefilter("ignore", api.DegenerateFitWarning)
                warnings.simplefilter("ignore", api.ConvergenceWarning)
                result = api.fit(
                    data, n_components, n_init=restarts, init=strategy, random_state=cell_seed,
                    init_params=init_params.get(strategy), **fit_options,
                )
            fits[strategy] = (result, time.perf_counter() - start, restarts)
        best = np.max([r.log_likelihood for r, _, _ in fits.values()], axis=0)
        for strategy, (result, seconds, restarts) in fits.items():
            rows.append(_row(size, strategy, restarts, replications, result, seconds, best,
                             truth, at_best_tol))
    return Table({name: [row[name] for row in rows] for name in rows[0]})


def _row(size, strategy, n_init, replications, result, seconds, best, truth, at_best_tol):
    restart_ll = result.restart_log_likelihood
    with np.errstate(invalid="ignore"):
        at_best = restart_ll >= (best - at_best_tol * result.n_observations)[:, None]
    iterations = result.restart_n_iter
    work = float(size) * result.n_components * (iterations.sum() + result.init_n_iter.sum())
    row = {
        "n_samples": size,
        "init": strategy,
        "n_init": n_init,
        "replications": replications,
        "converged": result.restart_converged.mean(),
        "degenerate": np.mean(result.status == Status.VARIANCE_FLOORED),
        "iter_median": float(np.median(iterations)),
        "iter_p90": float(np.percentile(iterations, 90)),
        "init_iter": result.init_n_iter.mean(),
        "at_best": np.mean(at_best & np.isfinite(restart_ll)),
    }
    matched = match_components(result.weights, result.means, result.variances, *truth)
    for name, fitted, true in zip(PARAMETERS, matched[:3], truth):
        error = fitted - true
        for k in range(true.size):
            row[f"{name}_{k + 1}_bias"] = np.nanmean(error[:, k])
            row[f"{name}_{k + 1}_rmse"] = np.sqrt(np.nanmean(error[:, k] ** 2))
    row["seconds"] = seconds
    row["fits_per_s"] = replications * n_init / seconds
    row["mega_throughput"] = work / seconds / 1e6
    return row

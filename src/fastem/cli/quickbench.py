"""``fastem bench``: a quick version of the W1 and W2 benchmarks (``bench/`` has the full ones).

Fixed work from given starting values (``tol=0``), counted as points x components x
iterations per second; the baselines run on a subset and are rated on that subset.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from .. import api, reference
from ..init import starting_values
from ..toolkit.simulation import simulate


def _rate(work, seconds):
    return work / seconds / 1e6


def _timed(function, repeats=1):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _sklearn_rate(rows, starts, n_iter):
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture
    except ImportError:
        return None

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for x, (w, m, v) in zip(rows, starts):
                GaussianMixture(
                    len(m),
                    weights_init=w,
                    means_init=m[:, None],
                    precisions_init=1.0 / v[:, None, None],
                    reg_covar=1e-6 * x.var(),
                    max_iter=n_iter,
                    tol=0,
                ).fit(x[:, None])

    work = sum(x.size * len(s[1]) * n_iter for x, s in zip(rows, starts))
    return _rate(work, _timed(run))


def run(say=None) -> str:
    """The table of throughputs; ``say``, if given, is called with a line of text as each
    workload starts."""
    lines = []
    say = say or (lambda text: None)
    # EM throughout: the throughput counts EM iterations, as the baselines run them.
    api.fit(np.linspace(0.0, 1.0, 20), 2, max_iter=2, tol=0, algorithm="em")  # compile or load
    api.fit(np.linspace(0.0, 1.0, 20), 3, max_iter=2, tol=0, algorithm="em")

    say("W1: 500 datasets x 1,000 points, K=2, 50 iterations ...")
    data, _ = simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 1000, 500, 0)
    start = dict(weights_init=[0.5, 0.5], means_init=[-1.0, 1.0], variances_init=[1.0, 1.0])
    n_iter = 50
    ours = _rate(
        data.size * 2 * n_iter,
        _timed(lambda: api.fit(data, 2, **start, max_iter=n_iter, tol=0, algorithm="em"), 3),
    )
    rows = data[:20]
    ref = _rate(
        rows.size * 2 * n_iter,
        _timed(
            lambda: reference.fit_batch(
                rows,
                np.tile(start["weights_init"], (20, 1)),
                np.tile(start["means_init"], (20, 1)),
                np.tile(start["variances_init"], (20, 1)),
                max_iter=n_iter,
                tol=0,
                reg_variance=1e-6,
            )
        ),
    )
    starts = [tuple(np.array(start[k]) for k in ("weights_init", "means_init", "variances_init"))]
    sk = _sklearn_rate(list(data[:3]), starts * 3, n_iter)
    lines.append(("W1 many datasets", ours, ref, sk))

    say("W2: 1 dataset x 20,000 points, K=3, 200 restarts x 10 iterations ...")
    x, _ = simulate([0.3, 0.4, 0.3], [-4.0, 0.0, 5.0], [1.0, 2.0, 1.5], 20_000, random_state=1)
    s = starting_values(x, 3, init="random_from_data", n_init=200, random_state=2)
    n_iter = 10
    ours = _rate(
        x.size * 3 * 200 * n_iter,
        _timed(
            lambda: api.fit(
                x,
                3,
                n_init=200,
                weights_init=s.weights,
                means_init=s.means,
                variances_init=s.variances,
                max_iter=n_iter,
                tol=0,
                algorithm="em",
            ),
            3,
        ),
    )
    ref = _rate(
        x.size * 3 * 4 * n_iter,
        _timed(
            lambda: reference.fit_batch(
                np.tile(x, (4, 1)),
                s.weights[:4],
                s.means[:4],
                s.variances[:4],
                max_iter=n_iter,
                tol=0,
                reg_variance=1e-6,
            )
        ),
    )
    sk = _sklearn_rate(
        [x, x], [(s.weights[r], s.means[r], s.variances[r]) for r in range(2)], n_iter
    )
    lines.append(("W2 many restarts", ours, ref, sk))

    out = [
        "million points x components x iterations per second (fastem's ratio to each)",
        f"{'workload':<18}{'fastem':>10}{'NumPy reference':>24}{'scikit-learn':>24}",
    ]
    for name, ours, ref, sk in lines:
        sk_text = f"{sk:8.2f} ({ours / sk:6.1f}x)" if sk else f"{'not installed':>17}"
        out.append(f"{name:<18}{ours:10.1f}{ref:14.2f} ({ours / ref:6.1f}x){sk_text:>24}")
    return "\n".join(out)

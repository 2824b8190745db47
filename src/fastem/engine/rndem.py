"""rndEM (Maitra 2009), the steps of the ``"rndem"`` starting-value strategy of
:mod:`.starts`: many random starts per restart, the one of highest log-likelihood kept,
with no EM iteration in between.

Each candidate is drawn as ``"random_from_data"`` draws a start (``K`` distinct points as
seeds, then the clusters of the points nearest to them). Candidate 0 of restart ``r``
draws from the restart's own stream, so that it is ``"random_from_data"``'s start for that
restart; candidate ``c > 0`` from a stream keyed by the restart's key and ``c``. A
candidate's log-likelihood is the E-step's (:data:`.estep.plain_e_step`, in float64), so
it is the value a fit from it would report at iteration 0. The first candidate of the
highest log-likelihood is kept (a non-finite one never is, unless all are).
"""

from __future__ import annotations

import math

import numpy as np

from . import rng as _rng
from .estep import block_size, e_step_parameters, plain_e_step
from .jit import jit
from .lanes import lanes
from .seeding import cluster_parameters, random_seeds


@jit(inline=True)
def candidate_key(key, c):
    """The stream of candidate ``c`` of the restart whose stream is ``key``."""
    return key if c == 0 else _rng.stream_key(key, _rng.INIT, c, 0)


@jit
def best_of_random_starts(
    x, point_weight, center, inv_scale, key, n_candidates, weights, means, variances
):
    """The candidate of highest log-likelihood among ``n_candidates``, written to
    ``weights``, ``means`` and ``variances`` (arrays of shape (K,)); returns its
    log-likelihood (standardised units)."""
    n_components = means.size
    seeds = np.empty(n_components)
    trial = np.empty((3, n_components))
    statistics = np.empty((4, n_components))
    per_component = np.empty((4, n_components))
    block = block_size(n_components, lanes(per_component))
    per_point = np.empty((4, block))
    dev = np.empty((n_components, block))
    dens = np.empty((n_components, block))
    best = -math.inf
    for c in range(n_candidates):
        random_seeds(x, point_weight, center, inv_scale, candidate_key(key, c), seeds)
        cluster_parameters(x, point_weight, center, inv_scale, seeds, trial[0], trial[1], trial[2])
        # The two steps of .mstep.log_likelihood_only, with the E-step called rather than
        # passed: a kernel holding a function as a value cannot be cached.
        e_step_parameters(trial[0], trial[1], trial[2], per_component)
        log_likelihood, _ = plain_e_step(
            x, point_weight, center, inv_scale, per_component, statistics, dev, dens, per_point
        )
        if c == 0 or log_likelihood > best:
            best = log_likelihood
            for k in range(n_components):
                weights[k] = trial[0, k]
                means[k] = trial[1, k]
                variances[k] = trial[2, k]
    return best

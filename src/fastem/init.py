"""Starting values on their own, as :func:`fastem.fit` would choose them."""

from __future__ import annotations

import numpy as np

from . import _init, _layout, _validate


def starting_values(data, n_components=2, *, init="kmeans++", n_init=1, random_state=None):
    """The starting values ``fastem.fit`` uses with the same arguments.

    See ``fastem._init`` for how each strategy works.

    Returns
    -------
    weights, means, variances : arrays of shape (n_datasets, n_init, n_components)
        In the data's units. Components are in the order the strategy chose them.
    """
    n_components = _validate.check_int("n_components", n_components, 1)
    n_init = _validate.check_int("n_init", n_init, 1)
    init = _validate.check_choice("init", init, _init.METHODS)
    seed = _validate.check_random_state(random_state)
    batch = _validate.as_batch(data)
    center, variance = _layout.moments(batch)
    _validate.check_data_values(batch, center, variance)
    _validate.check_n_samples(batch, n_components)
    scale = _layout.scale_from_moments(center, variance)
    _validate.check_scale(scale)
    shape = (batch.n_datasets * n_init, n_components)
    weights, means, variances = (np.empty(shape) for _ in range(3))
    _init.initialise(
        _init.method_code(init), batch.values, batch.offsets, center, scale, seed, weights,
        means, variances,
    )
    grid = (batch.n_datasets, n_init, n_components)
    means, variances = _layout.to_data_units(
        center, scale, means.reshape(grid), variances.reshape(grid)
    )
    return weights.reshape(grid), means, variances

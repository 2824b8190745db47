"""The fast path of a small call of ``fastem.fit``: the arguments bound without
``inspect.Signature.bind`` when they bind cleanly, the same answer as a batched call."""

import inspect

import numpy as np
import pytest

import fastem
from fastem import api
from fastem import options as _options


def _bound_slowly(function, args, kwargs):
    arguments = function.__signature__.bind(*args, **kwargs)
    arguments.apply_defaults()
    return dict(arguments.arguments)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (([1.0, 2.0], 2), {}),
        (([1.0, 2.0],), {"n_components": 3, "tol": 0, "n_init": 4}),
        ((), {"data": [1.0], "n_components": 1, "random_state": 5}),
        (([1.0, 2.0], 2), {"max_iter": 20, "algorithm": "em", "warn": False}),
    ],
)
def test_arguments_bound_quickly_are_those_of_signature_bind_in_its_order(args, kwargs):
    fast = _options._bound_fast(api.fit, args, kwargs)
    slow = _bound_slowly(api.fit, args, kwargs)
    assert fast == slow
    assert list(fast) == list(slow)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([1.0, 2.0], 2, 3), {}, "too many positional arguments"),
        (([1.0, 2.0], 2), {"n_components": 2}, "multiple values for argument 'n_components'"),
        (([1.0, 2.0], 2), {"n_inti": 2}, "unexpected keyword argument 'n_inti'"),
        ((), {"n_components": 2}, "missing"),
    ],
)
def test_calls_that_do_not_bind_take_the_slow_path_and_its_message(args, kwargs, message):
    assert _options._bound_fast(api.fit, args, kwargs) is None
    with pytest.raises(TypeError, match=message):
        fastem.fit(*args, **kwargs)


def test_the_fast_path_keeps_required_arguments_required():
    parameters = api.fit.__signature__.parameters
    assert parameters["data"].default is inspect.Parameter.empty


def test_one_call_per_dataset_gives_the_bits_of_one_batched_call():
    data, _ = fastem.simulate(
        [0.4, 0.6], [-1.5, 1.5], [1.0, 1.0], 100, n_datasets=6, random_state=3
    )
    means = np.quantile(data, [0.25, 0.75], axis=1).T.copy()
    variances = np.repeat(data.var(axis=1)[:, None], 2, axis=1)
    options = dict(algorithm="em", tol=0, max_iter=20, warn=False)
    batched = fastem.fit(data, 2, means_init=means, variances_init=variances, **options)
    for d in range(data.shape[0]):
        single = fastem.fit(data[d], 2, means_init=means[d], variances_init=variances[d], **options)
        for name in ("weights", "means", "variances", "log_likelihood", "n_iter", "status"):
            assert np.array_equal(getattr(single, name), getattr(batched, name)[d]), name

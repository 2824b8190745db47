"""The named groups of the kernels' arguments unpack in the order of the kernels' signatures."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from fastem.engine import em, kernels, starts
from fastem.engine.arguments import (
    BatchData,
    FitOptions,
    FitOutputs,
    Parameters,
    StartOptions,
    fit_arguments,
    start_arguments,
)


def _parameter_names(kernel):
    return list(inspect.signature(getattr(kernel, "py_func", kernel)).parameters)


def _named(group):
    """A group whose every field holds its own name, to see where the builder puts it."""
    return group(*group._fields)


FIT_GROUPS = (BatchData, Parameters, FitOptions, FitOutputs)
START_GROUPS = (BatchData, StartOptions, Parameters)


@pytest.mark.parametrize(
    "kernel",
    [kernels.fit_em, kernels.fit_daarem, kernels.fit_quasi_newton, kernels.fit_classification],
)
def test_fit_arguments_follow_the_fit_kernels_signature(kernel):
    built = fit_arguments(*(_named(group) for group in FIT_GROUPS))
    # After the fit's index; before the E-steps and the interrupt flag (added by the runner).
    assert ["f", *built, "e_step", "e_step_far", "interrupted"] == _parameter_names(kernel)


def test_fit_at_takes_the_fit_kernels_arguments_and_then_the_family():
    # The M-step's options in one tuple, the method and its random streams in another, the
    # E-steps in a third (a call of more than 30 arguments compiles to one numba cannot
    # inline).
    names = _parameter_names(kernels.fit_em)
    first = names.index("reg_variance")
    options = ["reg_variance", "equal_variance", "fixed_weights", "fixed_means"]
    options += ["fixed_variances", "prior"]
    assert names[first : first + 6] == options
    names = [*names[:first], "options", *names[first + 6 :]]
    at = names.index("method")
    assert names[at : at + 3] == ["method", "keys", "seed"]
    steps = names.index("e_step")
    assert names[steps : steps + 2] == ["e_step", "e_step_far"]
    expected = [*names[:at], "algorithm", *names[at + 3 : steps], "e_steps"]
    expected += [*names[steps + 2 :], "family"]
    assert _parameter_names(em.fit_at) == expected


@pytest.mark.parametrize(
    "kernel",
    [
        starts.kmeans_plusplus,
        starts.random_from_data,
        starts.kmeans,
        starts.quantile,
        starts.random,
        starts.around_means,
    ],
)
def test_start_arguments_follow_the_starting_value_kernels_signature(kernel):
    built = start_arguments(*(_named(group) for group in START_GROUPS))
    assert ["f", *built, "interrupted"] == _parameter_names(kernel)


def test_fit_options_take_the_models_constraints_by_name():
    from fastem.model import Model

    model = Model(3, reg_variance=0.5, equal_variance=True, fixed_means=[True, False, False])
    prior = np.zeros((4, 0))
    options = FitOptions.of(model, max_iter=7, tol=1e-3, stop=2, dtype=np.float32, prior=prior)
    assert (options.reg_variance, options.equal_variance) == (0.5, True)
    assert options.prior is prior
    assert options.fixed_means is model.fixed_means
    assert options.fixed_weights is model.fixed_weights
    assert options.fixed_variances is model.fixed_variances
    assert (options.max_iter, options.tol, options.stop) == (7, 1e-3, 2)
    assert options.dtype == np.dtype(np.float32)

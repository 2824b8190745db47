"""Compiling only what runs: the far pass of the E-step is compiled when a batch needs it,
and the results are the same bits whether it was there from the start or not."""

from __future__ import annotations

import numpy as np
import pytest

import fastem
from fastem.cli import precompile
from fastem.cli.commands import main
from fastem.engine import estep


def _far_passes():
    """The function each E-step of this process passes as the far pass."""
    return {found[2] for found in estep._E_STEPS.values()}


def _fit(x, offset):
    """Three datasets, the second with a component that starts ``offset`` standard
    deviations of the data away (0: every start at the data)."""
    means = np.array([[4.0, 6.0], [4.0, 5.0 + 1e-3 * offset], [4.5, 5.5]])
    return fastem.fit(
        x,
        2,
        weights_init=[0.5, 0.5],
        means_init=means,
        variances_init=[[1.0, 1.0], [1.0, max((1e-3 * offset) ** 2, 1.0)], [1.0, 1.0]],
        max_iter=3,
        tol=0,
        algorithm="squarem",
        sort_components=False,
        warn=False,
    )


def _bits(result, name, rows=slice(None)):
    return np.asarray(getattr(result, name))[rows].tobytes()


ARRAYS = ("weights", "means", "variances", "log_likelihood", "n_iter", "status", "n_fpeval")


@pytest.mark.plain_python
def test_a_batch_that_needs_the_far_pass_gives_the_bits_of_one_that_had_it(monkeypatch):
    rng = np.random.default_rng(29)
    x = rng.normal(0.0, 1.0, (3, 200)) + 5.0
    monkeypatch.setattr(estep, "_E_STEPS", {})
    near = _fit(x, 0.0)
    assert _far_passes() == {estep._far_pass_pending}  # not compiled: no fit needed it
    first = _fit(x, 1e6)  # the far start needs it: the batch runs again with it
    assert _far_passes() == {estep._expectation_far}
    again = _fit(x, 1e6)  # with the far pass from the start
    for name in ARRAYS:
        assert _bits(first, name) == _bits(again, name)
    assert (first.status != estep.FAR_PASS_PENDING).all()
    # The datasets whose starts did not change fit as in the batch without a far start.
    for name in ("weights", "means", "variances", "log_likelihood"):
        assert _bits(first, name, [0, 2]) == _bits(near, name, [0, 2])


def test_fastem_compile_runs_each_path_and_says_how_long_it_took(monkeypatch, capsys):
    ran = []
    paths = (("the first path", lambda: ran.append(1)), ("the second", lambda: ran.append(2)))
    monkeypatch.setattr(precompile, "PATHS", paths)
    assert main(["compile"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert ran == [1, 2]
    assert lines[0].startswith("fastem: compiling the kernels of the common paths")
    assert [line.split(" s  ")[1] for line in lines[1:3]] == ["the first path", "the second"]
    assert lines[3].startswith("fastem: done in ")
    assert main(["compile", "--quiet"]) == 0
    assert capsys.readouterr().out == "" and ran == [1, 2, 1, 2]

"""The options of ``fastem.fit`` are declared once, in the table of ``fastem.options``: every
entry point, the study's design and the command line take them from there."""

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastem
from fastem import options

PACKAGE = Path(fastem.__file__).resolve().parent
TABLE = PACKAGE / "options"
FASTEM = Path(sys.executable).with_name("fastem")

ENTRY_POINTS = {
    "api.py": "fit",
    "interop/dask.py": "fit",
    "toolkit/selection.py": "select",
    "toolkit/study.py": "study",
    "toolkit/bootstrap.py": "bootstrap",
    "toolkit/lrt.py": "bootstrap_lrt",
}
"""The functions that take fit's options and hand them on, by module."""
OWN_PARAMETERS = {
    "reference/__init__.py": "the NumPy yardstick's own equations",
    "reference/penalised.py": "the NumPy yardstick's own equations",
    "reference/intervals.py": "the NumPy yardstick's own equations",
    "init/__init__.py": "the starting-value strategies' own functions",
    "interop/estimator.py": "scikit-learn's names and signature, which the estimator mirrors",
    "engine/rng.py": "the data a stream is keyed by",
    "engine/run.py": "the kernels' runner, given the checked options",
    "batch.py": "the data's checks, given the checked weights",
    "search.py": "how settled a search is, a function of its own",
    "toolkit/refit.py": "fits of given data and weights from given starts",
    "toolkit/simulation.py": "simulation's own seed and offset",
    "toolkit/matching.py": "restart_summary's tolerance, a different one",
    "toolkit/plots/fits.py": "a figure of given data and weights",
    "toolkit/emtest.py": "the EM-test's own fits of its alternatives (MixtureInf's settings)",
}
"""Modules whose functions take a parameter of an option's name for a job of their own, not
to hand it on to fit; every other module of the package is searched for declarations."""


def _declarations(path: Path):
    """``(name, where)`` for every option that ``path`` declares: a parameter with a default
    (but in ``result.py``, whose functions report a fit), a field with a default of the
    study's ``Design``, a dict literal of options (every key an option), or a list of
    options (a tuple or list literal bound to a module-level name, every item an option)."""
    tree = ast.parse(path.read_text())
    where = path.relative_to(PACKAGE).as_posix()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)) and where != "result.py":
            arguments = node.args
            positional = [*arguments.posonlyargs, *arguments.args]
            with_defaults = positional[len(positional) - len(arguments.defaults) :]
            with_defaults += [
                argument
                for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults)
                if default is not None
            ]
            for argument in with_defaults:
                yield argument.arg, f"{where}: parameter of {getattr(node, 'name', 'lambda')}"
        elif isinstance(node, ast.ClassDef) and where == "toolkit/design.py":
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and item.value is not None:
                    yield item.target.id, f"{where}: field of {node.name}"
        elif isinstance(node, ast.Dict) and _all_options(node.keys):
            yield from ((key.value, f"{where}: key of a dict") for key in node.keys)
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, (ast.Tuple, ast.List))
            and _all_options(node.value.elts)
        ):
            for item in node.value.elts:
                yield item.value, f"{where}: listed in {ast.unparse(node.targets[0])}"


def _all_options(nodes) -> bool:
    return bool(nodes) and all(
        isinstance(node, ast.Constant) and node.value in options.BY_NAME for node in nodes
    )


def test_each_option_is_declared_once_in_the_table_and_nowhere_it_is_handed_on():
    # In the table: one Option each, named by its first argument.
    declared = [
        node.args[0].value
        for path in TABLE.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Option"
    ]
    assert sorted(declared) == sorted(options.NAMES)
    # Where the options go: no parameter, field, dict key or list of their names.
    again = {}
    searched = [
        path
        for path in PACKAGE.rglob("*.py")
        if path.parent != TABLE and path.relative_to(PACKAGE).as_posix() not in OWN_PARAMETERS
    ]
    assert len(searched) >= 80
    for path in searched:
        for name, where in _declarations(path):
            if name in options.BY_NAME:
                again.setdefault(name, []).append(where)
    assert again == {}


@pytest.mark.parametrize(("module", "entry"), ENTRY_POINTS.items())
def test_the_entry_points_show_the_options_they_take_with_their_defaults(module, entry):
    function = {
        "fit": fastem.dask.fit if module.startswith("interop") else fastem.fit,
        "select": fastem.select,
        "study": fastem.study,
        "bootstrap": fastem.bootstrap,
        "bootstrap_lrt": fastem.bootstrap_lrt,
    }[entry]
    parameters = inspect.signature(function).parameters
    table_entry = None if function is fastem.fit else entry
    if module.startswith("interop"):
        table_entry = "dask"
    for name in options.taken_by(table_entry) if table_entry else options.NAMES:
        assert parameters[name].default is options.default(name, table_entry), name
    for name in getattr(function, "sets_options", ()):
        assert name not in parameters


def test_help_of_fit_documents_every_option_with_its_default():
    text = inspect.getdoc(fastem.fit)
    for option in options.FIT_OPTIONS:
        assert f"\n{option.name}" in text or f", {option.name}" in text, option.name
    assert "spurious : SpuriousRule, default SpuriousRule()" in text


def test_a_result_holds_the_per_batch_options_once_for_the_batch():
    from fastem.result import FitResult

    fields = {field.name for field in fastem.result.fields(FitResult)}
    assert set(options.PER_BATCH) <= fields


def test_a_misspelt_option_is_refused_as_python_refuses_it():
    with pytest.raises(TypeError, match="fit\\(\\) got an unexpected keyword argument 'n_inti'"):
        fastem.fit(np.arange(10.0), 2, n_inti=3)
    with pytest.raises(TypeError, match="fastem.study sets warn itself"):
        fastem.study(warn=False)


# ----------------------------------------------------------------------------- the CLI


def _fastem(*args):
    completed = subprocess.run(
        [str(FASTEM), *map(str, args)], capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    rng = np.random.default_rng(3)
    path = tmp_path_factory.mktemp("options") / "data.csv"
    values = np.r_[rng.normal(0.0, 1.0, 40), rng.normal(4.0, 0.3, 8)]
    path.write_text("x\n" + "\n".join(f"{v:.6f}" for v in values) + "\n")
    return path


def _fit_rows(path, *flags):
    return json.loads(_fastem("fit", path, "--format", "json", "--quiet", *flags))


def test_fastem_fit_takes_the_spurious_rule_and_the_strategy_options(data_file):
    plain = _fit_rows(data_file, "--n-init", 2)
    # Every component but the widest is "spurious" by this rule.
    strict = _fit_rows(data_file, "--n-init", 2, "--spurious", 1000, 1)
    assert plain[0]["status"] != strict[0]["status"] == "spurious"
    emem = ("--n-init", 1, "--init", "emem")
    assert _fit_rows(data_file, *emem, "--init-params", "n_runs=2,n_iter=3")[0]["n_iter"] >= 1
    # The strategy's options reach it: one it does not take is refused, by its flag.
    refused = subprocess.run(
        [str(FASTEM), "fit", str(data_file), *map(str, emem), "--init-params", "n_rounds=2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert refused.returncode == 2 and "n_rounds" in refused.stderr, refused.stderr


def test_fastem_study_takes_every_option_a_design_may_set(tmp_path):
    out = tmp_path / "table.json"
    _fastem(
        "study",
        "--replications",
        20,
        "--n-samples",
        15,
        "--init",
        "emem",
        "--n-init",
        2,
        "--init-params",
        "n_runs=2",
        "--skip-degenerate",
        "--spurious",
        3,
        0.001,
        "--at-best-tol",
        0.01,
        "--json",
        out,
        "--quiet",
    )
    design = json.loads(out.read_text())["design"]
    assert design["init_params"] == {"n_runs": 2}
    assert design["skip_degenerate"] is True
    assert design["spurious"] == {"min_points": 3.0, "min_variance_ratio": 0.001}
    assert design["at_best_tol"] == 0.01


@pytest.mark.parametrize("command", ["lrt", "bootstrap"])
def test_the_inference_commands_take_the_stopping_options_of_the_table(command):
    text = " ".join(_fastem(command, "--help").split())
    for name in ("max_iter", "tol", "spurious"):
        assert options.BY_NAME[name].flag + " " in text, name


def test_the_design_takes_only_the_mixture_sizes_and_replications_by_position():
    # The table orders the rest: a seventh value by position would land on an option
    # other than the one it meant, so it is refused.
    design = fastem.Design((0.5, 0.5), (-1.0, 1.0), (1.0, 1.0), (40,), 100, init=("random",))
    assert design.init == ("random",) and design.replications == 100
    with pytest.raises(TypeError, match="positional"):
        fastem.Design((0.5, 0.5), (-1.0, 1.0), (1.0, 1.0), (40,), 100, ("random",))


def test_fit_and_the_command_line_load_under_python_oo():
    # python -OO drops docstrings, which the table fills with the options' documentation.
    code = "import fastem, fastem.dask; print(fastem.fit.__name__)"
    completed = subprocess.run(
        [sys.executable, "-OO", "-c", code], capture_output=True, text=True, timeout=300
    )
    assert completed.stdout.strip() == "fit", completed.stderr
    assert "fastem" in _fastem_oo("--version")


def _fastem_oo(*args):
    completed = subprocess.run(
        [sys.executable, "-OO", "-m", "fastem", *args], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.mark.parametrize("command", ["lrt", "bootstrap"])
def test_the_spurious_rule_of_an_inference_command_is_written_in_its_json(
    command, data_file, tmp_path
):
    out = tmp_path / "out.json"
    extra = ("--max-components", 2) if command == "lrt" else ()
    _fastem(command, data_file, "--n-boot", 5, "--spurious", 0, 0, *extra, "--json", out, "--quiet")
    written = json.loads(out.read_text())["options"]["spurious"]
    assert written == {"min_points": 0.0, "min_variance_ratio": 0.0}


def test_checks_of_plain_values_are_reused_but_tell_types_apart_and_draw_new_seeds():
    """A loop of fits pays each option's check once per value: kept answers must not let
    True pass for 1, nor a refused value pass the second time, nor reuse a drawn seed."""
    assert options.checked({"max_iter": 1}) == {"max_iter": 1}
    for _ in range(2):
        with pytest.raises(TypeError, match="max_iter must be an integer, got True"):
            options.checked({"max_iter": True})
        with pytest.raises(ValueError, match="max_iter"):
            options.checked({"max_iter": 0})
    first, second = (options.checked({"random_state": None})["random_state"] for _ in range(2))
    assert first.random_state != second.random_state
    for zero in (0.0, -0.0, 0.0):  # equal, but not the same value
        assert str(options.checked({"reg_variance": zero})["reg_variance"]) == str(zero)

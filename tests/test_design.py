"""The study's settings: defaults, design files, flags over them, checks, and the study run
from a Design."""

import json
from pathlib import Path

import pytest

import fastem
from fastem import Design
from fastem.cli import commands, shared
from fastem.cli import study as study_command


def _cli_design(*argv):
    return study_command._design(commands.build_parser().parse_args(["study", *argv]))


def test_the_defaults_are_those_of_fastem_study_and_of_fit():
    design = Design()
    assert _cli_design() == design
    assert design.to_dict() == dict(
        weights=[0.4, 0.6],
        means=[-2.5, 3.5],
        variances=[4.0, 4.0],
        n_samples=[40],
        replications=10_000,
        init=["kmeans++", "random", "emem"],
        n_init=5,
        seed=0,
        algorithm=["em"],
        stop=["loglik"],
        penalty=["none"],
        n_components=[0],
        scenarios=[],
        grid=None,
        template=None,
        at_best_tol=1e-4,
        quantiles=[0.9, 0.95, 0.99],
        plot_measure=None,
        plot_against=None,
        init_params=None,
        tol=None,
        max_iter=1000,
        reg_variance=0.0,
        equal_variance=False,
        skip_degenerate=False,
        spurious=dict(min_points=5.0, min_variance_ratio=0.01),
        se=None,
        prior=None,
    )


def test_every_option_has_a_flag_that_leaves_the_file_alone_unless_given():
    args = commands.build_parser().parse_args(["study"])
    assert all(getattr(args, name) is None for name in Design.options())  # scenarios too


@pytest.mark.parametrize(
    "path",
    sorted(Path(__file__).parents[1].glob("docs/studies/*.toml")),
    ids=lambda path: path.name,
)
def test_the_designs_in_the_documentation_load_on_every_python_the_package_claims(path):
    # TOML is read by the standard library from Python 3.11 on, by tomli before.
    design = Design.from_file(path)
    assert design.replications >= 1 and len(design.n_samples) >= 1


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_a_design_file_round_trips(tmp_path, suffix):
    design = Design(
        weights=[0.5, 0.3, 0.2],
        means=[-4, 0, 4],
        variances=[1, 2.5, 1],
        n_samples=[30, 100],
        replications=7,
        init="quantile",
        n_init=3,
        seed=11,
        tol=1e-8,
        max_iter=50,
        reg_variance=0.01,
        equal_variance=True,
        se="louis",
        at_best_tol=1e-3,
        skip_degenerate=True,
        spurious=fastem.SpuriousRule(3, 0.001),
    )
    path = tmp_path / f"design{suffix}"
    values = design.to_dict()
    if suffix == ".json":
        path.write_text(json.dumps(values))
    else:
        path.write_text(
            "".join(
                f"{name} = {_toml_value(value)}\n"
                for name, value in values.items()
                if value is not None  # not given: the default
            )
        )
    assert Design.from_file(path) == design
    assert design.init == ("quantile",) and design.means == (-4.0, 0.0, 4.0)


def _toml_value(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


def test_flags_win_over_the_file_which_wins_over_the_defaults(tmp_path):
    path = tmp_path / "design.toml"
    path.write_text("means = [0.0, 6.0]\nn_samples = 30\nreplications = 50\nseed = 3\n")
    design = _cli_design(
        "--design", str(path), "--replications", "80", "--init", "random", "--max-iter", "20"
    )
    assert design == Design(
        means=(0.0, 6.0), n_samples=(30,), replications=80, seed=3, init=("random",), max_iter=20
    )
    assert Design.from_file(path, replications=80, seed=None).replications == 80
    assert Design().override(n_init=2, seed=None) == Design(n_init=2)


def test_the_mixture_is_checked_after_the_flags_are_applied(tmp_path):
    path = tmp_path / "design.json"
    path.write_text('{"means": [0, 3, 6]}')  # three components: the flags give the rest
    design = _cli_design(
        "--design", str(path), "--weights", "0.2", "0.3", "0.5", "--variances", "1", "1", "1"
    )
    assert len(design.weights) == len(design.means) == len(design.variances) == 3


@pytest.mark.parametrize(
    ("options", "error", "fragment"),
    [
        (dict(means=[0.0, 1.0, 2.0]), ValueError, "one value per component; got 2, 3 and 2"),
        (dict(n_samples=[]), TypeError, "'n_samples' must be a non-empty list, e.g. [40]"),
        (dict(weights=0.5), TypeError, "'weights' holds 0.5, a single value; give a list"),
        (dict(weights=[0.5, 0.6]), ValueError, "weights must be >= 0 and sum to 1"),
        (dict(variances=[1.0, 0.0]), ValueError, "variances must be positive"),
        (dict(n_samples=[40, 2]), ValueError, "n_samples must be at least 3 for a mixture of 2"),
        (dict(means=[0, "a"]), TypeError, "'means' holds 'a'; each value must be a number"),
        (dict(replications=2.5), TypeError, "each value must be an integer"),
        (dict(equal_variance=1), TypeError, "each value must be true or false"),
        (dict(n_samples=[40, 0]), ValueError, "n_samples must be at least 1"),
        (dict(init=["kmeans++", "best"]), ValueError, "init='best'"),
        (dict(n_init=0), ValueError, "n_init must be at least 1"),
        (dict(tol=-1.0), ValueError, "tol must be a finite number >= 0"),
        (dict(max_iter=0), ValueError, "max_iter must be an integer from 1"),
    ],
)
def test_bad_settings_are_refused_by_name(options, error, fragment):
    with pytest.raises(error) as raised:
        Design(**options)
    assert fragment in str(raised.value)
    assert set(raised.value.options) >= set(options)  # for fastem study to name its flags


def test_a_bad_value_is_named_by_the_flag_or_the_file_that_gave_it(tmp_path):
    path = tmp_path / "design.toml"
    path.write_text("seed = -3\nmeans = [0.0, 1.0, 2.0]\n")
    for argv, message in [
        (["--n-samples", "1"], "--n-samples must be at least 3 for a mixture of 2 components"),
        (["--seed", "-1"], "--seed must be at least 0, got -1"),
        (["--init", "best"], "--init best is not one of"),
        (["--means", "1", "2", "3"], "--weights, --means and --variances need one value per"),
        (["--design", str(path)], f"{path}: weights, means and variances need one value per"),
        (
            ["--design", str(path), "--weights", ".2", ".3", ".5", "--variances", "1", "1", "1"],
            f"{path}: seed must be at least 0, got -3",
        ),
        (["--design", str(path), "--seed", "-1", "--means", "0", "1"], "--seed must be at least 0"),
    ]:
        with pytest.raises(shared.UserError) as raised:
            _cli_design(*argv)
        assert str(raised.value).startswith(message), (argv, str(raised.value))


def test_unknown_options_are_refused():
    with pytest.raises(TypeError, match="unknown option"):
        Design().override(colour=3)


def test_a_design_runs_the_study_it_describes():
    design = Design(
        weights=[0.5, 0.5],
        means=[0.0, 4.0],
        variances=[1.0, 1.0],
        n_samples=[25],
        replications=40,
        init=["kmeans++", "quantile"],
        n_init=2,
        seed=5,
        max_iter=200,
    )
    table = design.run().table
    direct = fastem.study(
        [0.5, 0.5],
        [0.0, 4.0],
        [1.0, 1.0],
        n_samples=25,
        replications=40,
        init=("kmeans++", "quantile"),
        n_init=2,
        random_state=5,
        max_iter=200,
    ).table
    timing = {"seconds", "fits_per_s", "mega_throughput"}
    assert table.columns == direct.columns
    for name in set(table.columns) - timing:
        assert list(table[name]) == list(direct[name]), name


def test_the_brief_table_is_drawn_from_the_columns_the_study_writes():
    result = Design(n_samples=[20], replications=10, init="quantile", max_iter=50).run()
    brief = result.brief_table()
    assert brief.columns[:4] == ["n_samples", "init", "n_init", "converged"]
    assert {"mean_1_rmse", "mean_2_rmse"} <= set(brief.columns) <= set(result.table.columns)


# ------------------------------------------------------ the options of fit a design may set

FIT_OPTION_SETTINGS = [
    # (the design file's line, the flags of fastem study, the option's value)
    ("init_params = {n_runs = 3}", ["--init-params", "n_runs=3"], {"n_runs": 3}),
    ("skip_degenerate = true", ["--skip-degenerate"], True),
    (
        "spurious = {min_points = 2, min_variance_ratio = 0.001}",
        ["--spurious", "2", "0.001"],
        fastem.SpuriousRule(2, 0.001),
    ),
    ("at_best_tol = 0.01", ["--at-best-tol", "0.01"], 0.01),
    ("se = 'score'", ["--se", "score"], "score"),
    ("equal_variance = true", ["--equal-variance"], True),
    ("reg_variance = 0.001", ["--reg-variance", "0.001"], 0.001),
    ("prior = {shrinkage = 0.1}", ["--prior", "shrinkage=0.1"], {"shrinkage": 0.1}),
]


@pytest.mark.parametrize(("line", "flags", "value"), FIT_OPTION_SETTINGS, ids=lambda x: str(x))
def test_a_design_file_and_a_flag_set_each_option(tmp_path, line, flags, value):
    name = line.split(" = ")[0]
    path = tmp_path / "design.toml"
    path.write_text(line + "\n")
    from_file = Design.from_file(path)
    assert getattr(from_file, name) == value != getattr(Design(), name)
    assert _cli_design(*flags) == from_file


def test_every_option_of_fit_a_design_may_set_has_a_flag_and_a_setting_test():
    from fastem.options import DESIGN_OPTIONS

    tested = {line.split(" = ")[0] for line, _, _ in FIT_OPTION_SETTINGS}
    assert {option.name for option in DESIGN_OPTIONS} - {"tol", "max_iter"} <= tested


def test_init_params_must_be_options_of_a_strategy_studied():
    with pytest.raises(ValueError, match=r"init_params \['n_runs'\] are not options") as raised:
        Design(init="kmeans++", init_params={"n_runs": 3})
    assert raised.value.options == ("init_params",)


def _study_rows(**options):
    design = Design(
        weights=[0.7, 0.3],
        means=[0.0, 3.0],
        variances=[1.0, 0.5],
        n_samples=[15],
        replications=40,
        n_init=3,
        seed=2,
        max_iter=100,
        **options,
    )
    return design.run().table


@pytest.mark.parametrize(
    ("options", "column"),
    [
        (dict(spurious=fastem.SpuriousRule(0, 0)), "spurious"),
        (dict(skip_degenerate=True), "spurious"),
        (dict(at_best_tol=10.0), "at_best"),
        (dict(init="emem", init_params={"n_runs": 2, "n_iter": 1}), "init_iter"),
    ],
    ids=["spurious", "skip_degenerate", "at_best_tol", "init_params"],
)
def test_the_fit_options_of_a_design_change_its_study(options, column):
    init = {"init": options.get("init", ("kmeans++", "random", "emem"))}
    assert list(_study_rows(**options)[column]) != list(_study_rows(**init)[column])

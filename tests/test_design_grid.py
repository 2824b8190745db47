"""Design grids: a [grid] of design variables and a [template] of the true mixture make the
study's scenarios, each variable a column of the table and the raw rows."""

import itertools
from pathlib import Path

import numpy as np
import pytest

import fastem
from fastem import Design
from fastem.toolkit.designgrid import GridError, grid_scenarios

ROOT = Path(__file__).parents[1]
TEMPLATE = dict(
    name="d={separation:g} w={weight:g}",
    weights=["weight", "1 - weight"],
    means=[0.0, "separation"],
    variances=[1.0, 1.0],
)


def test_a_grid_makes_every_combination_with_the_last_variable_fastest():
    grid = dict(separation=[1, 2.5, 4], weight=[0.5, 0.2], spread=[1, 4])
    template = dict(
        weights=["weight", "1 - weight"],
        means=[0, "separation * sqrt(spread)"],
        variances=[1, "spread"],
    )
    scenarios = grid_scenarios(grid, template)
    assert len(scenarios) == 3 * 2 * 2
    for scenario, (d, w, v) in zip(scenarios, itertools.product(*grid.values())):
        assert scenario.variables == (("separation", d), ("weight", w), ("spread", v))
        assert scenario.weights == (w, 1 - w)
        assert scenario.means == (0.0, d * np.sqrt(v))
        assert scenario.variances == (1.0, v)
        assert scenario.name == f"separation={d:g} weight={w:g} spread={v:g}"


@pytest.mark.parametrize(
    ("grid", "template", "message"),
    [
        ({}, TEMPLATE, "grid must be a table of design variables"),
        (dict(separation=[], weight=[0.5]), TEMPLATE, "'separation' must be a non-empty list"),
        (dict(separation=[2, "3"], weight=[0.5]), TEMPLATE, "holds '3'; each value must be a num"),
        (dict(separation=[2, 2], weight=[0.5]), TEMPLATE, "repeats a value"),
        (dict(separation=[2], weight=[0.5], rate=[1]), TEMPLATE, "'rate' is a column"),
        (dict(separation=[2], weight=[0.5], extra=[1, 2]), TEMPLATE, "extra appear in no field"),
        (dict(separation=[2]), TEMPLATE, "'weight', which is not a grid variable"),
        (
            dict(separation=[2], weight=[0.5]),
            {**TEMPLATE, "means": [0, "separation +"]},
            "is not an arithmetic expression",
        ),
        (
            dict(separation=[2], weight=[0.5]),
            {**TEMPLATE, "means": [0, "__import__('os')"]},
            "the functions are sqrt",
        ),
        (
            dict(separation=[2], weight=[0.5]),
            {**TEMPLATE, "variances": [1, "separation - 2"]},
            None,
        ),  # a variance of 0 is refused by the mixture's own check, below
        (
            dict(separation=[2], weight=[0.5]),
            {**TEMPLATE, "means": [0, "1 / (separation - 2)"]},
            "means[1] at separation=2 weight=0.5: float division by zero",
        ),
        (
            dict(separation=[2], weight=[0.5]),
            {k: v for k, v in TEMPLATE.items() if k != "means"},
            "the template lacks means",
        ),
        (
            dict(separation=[2], weight=[0.5]),
            {**TEMPLATE, "name": "d={sep}"},
            "cannot be formatted",
        ),
    ],
)
def test_a_bad_grid_or_template_is_refused_saying_why(grid, template, message):
    if message is None:
        with pytest.raises(ValueError, match="variances must be positive"):
            Design(grid=grid, template=template)
        return
    with pytest.raises(GridError) as error:
        Design(grid=grid, template=template)
    assert message in str(error.value)
    assert error.value.options == ("grid", "template")


def test_a_grid_needs_its_template_and_excludes_scenarios():
    with pytest.raises(ValueError, match="a grid needs a template"):
        Design(grid=dict(separation=[2]))
    scenario = dict(weights=[0.5, 0.5], means=[0, 1], variances=[1, 1])
    with pytest.raises(ValueError, match="either scenarios or a grid"):
        Design(grid=dict(separation=[2], weight=[0.5]), template=TEMPLATE, scenarios=[scenario])


def test_the_grids_n_samples_are_the_designs_sample_sizes(tmp_path):
    design = Design(grid=dict(separation=[2], weight=[0.5], n_samples=[30, 90]), template=TEMPLATE)
    assert design.n_samples == (30, 90) and design.grid == dict(separation=[2], weight=[0.5])
    path = tmp_path / "twice.toml"
    path.write_text("n_samples = [40]\n[grid]\nseparation = [2]\nn_samples = [30]\n")
    with pytest.raises(ValueError, match="n_samples is given twice"):
        Design.from_file(path)
    with pytest.raises(ValueError, match="n_samples is given twice"):
        Design(
            grid=dict(separation=[2], weight=[0.5], n_samples=[30]),
            template=TEMPLATE,
            n_samples=[50],
        )


def test_scenarios_with_different_variables_are_refused():
    grid = grid_scenarios(dict(separation=[2], weight=[0.5]), TEMPLATE)
    alone = fastem.Scenario((0.5, 0.5), (0.0, 1.0), (1.0, 1.0), "alone")
    with pytest.raises(ValueError, match="different design variables"):
        fastem.study(scenarios=[*grid, alone], n_samples=20, replications=2)


@pytest.fixture(scope="module")
def grid_and_hand_written():
    """The shipped separation design (a grid) and the same six scenarios written out by hand
    (tests/data/separation_by_hand.toml, the file before it became a grid), shrunk alike."""
    small = dict(replications=40, n_init=2, stop=["loglik"])
    grid = Design.from_file(ROOT / "docs" / "studies" / "separation.toml", **small)
    hand = Design.from_file(ROOT / "tests" / "data" / "separation_by_hand.toml", **small)
    return grid.run(), hand.run()


def test_the_separation_grid_gives_the_hand_written_table_with_its_variables(
    grid_and_hand_written,
):
    grid, hand = grid_and_hand_written
    assert grid.table.columns[:3] == ["scenario", "separation", "weight"]
    rest = [name for name in grid.table.columns if name not in ("separation", "weight")]
    assert rest == hand.table.columns
    for name in rest:
        same_nan = grid.table[name].dtype.kind == "f"
        assert np.array_equal(grid.table[name], hand.table[name], equal_nan=same_nan), name
    separation = [float(name.split()[0][2:]) for name in grid.table["scenario"]]
    weight = [float(name.split()[1][2:]) for name in grid.table["scenario"]]
    assert grid.table["separation"].tolist() == separation
    assert grid.table["weight"].tolist() == weight


def test_the_grids_variables_are_columns_of_the_raw_rows_and_the_brief_table(
    grid_and_hand_written,
):
    grid, _ = grid_and_hand_written
    raw = grid.raw()
    assert raw.columns[:3] == ["scenario", "separation", "weight"]
    for name in ("separation", "weight"):
        by_scenario = dict(zip(grid.table["scenario"], grid.table[name]))
        assert [by_scenario[s] for s in raw["scenario"]] == raw[name].tolist()
    assert grid.brief_table().columns[:3] == ["scenario", "separation", "weight"]
    assert grid.timing.columns[:3] == ["scenario", "separation", "weight"]


def test_the_plot_options_are_checked_when_the_design_is_made():
    with pytest.raises(ValueError, match="plot_against must be one of the design's variables"):
        Design(plot_measure="at_best", plot_against="separation")
    with pytest.raises(ValueError, match="plot_measure must be a measure"):
        Design(plot_measure="at_best_mcse")
    design = Design(
        grid=dict(separation=[2], weight=[0.5]),
        template=TEMPLATE,
        plot_measure="mean_2_bias",
        plot_against="weight",
    )
    assert "plot_measure" not in design.study_arguments()


def _cli(*argv):
    from fastem.cli import commands
    from fastem.cli import study as study_command

    return study_command._design(commands.build_parser().parse_args(["study", *argv]))


def test_a_bad_grid_in_a_design_file_is_reported_with_the_file(tmp_path):
    from fastem.cli.shared import UserError

    path = tmp_path / "grid.toml"
    path.write_text(
        "[grid]\nseparation = [2, 3]\n[template]\nweights = [0.5, 0.5]\n"
        'means = [0, "separaton"]\nvariances = [1, 1]\n'
    )
    with pytest.raises(UserError, match=rf"^{path}: .*'separaton', which is not a grid variable"):
        _cli("--design", str(path))
    path.write_text("weights = [0.5, 0.5]\n[grid]\nseparation = [2, 3]\n")
    with pytest.raises(UserError, match="give either grid or weights, not both"):
        _cli("--design", str(path))


def test_fastem_study_draws_the_profile_and_the_measure_asked_for(tmp_path):
    from test_cli import fastem_cli

    path = tmp_path / "grid.toml"
    path.write_text(
        "replications = 6\ninit = 'quantile'\nn_init = 1\nplot_measure = 'mean_2_bias'\n"
        "[grid]\nseparation = [3, 5]\nweight = [0.5]\nn_samples = [30]\n"
        '[template]\nweights = ["weight", "1 - weight"]\nmeans = [0, "separation"]\n'
        "variances = [1, 1]\n"
    )
    figures = tmp_path / "figures"
    completed = fastem_cli("study", "--design", path, "--plot", figures, "--quiet", check=True)
    header = completed.stdout.splitlines()[0].split()
    assert header[:4] == ["scenario", "separation", "weight", "n_samples"]
    assert {"profile.png", "mean_2_bias-by-separation.png"} <= {p.name for p in figures.iterdir()}
    missing = fastem_cli("study", "--design", path, "--quiet")
    assert missing.returncode != 0 and "--plot-measure draws a figure" in missing.stderr

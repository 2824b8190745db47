"""The settings of a Monte Carlo study in one place: :class:`Design`.

A field's name is the option's name everywhere: the keyword of ``Design(...)``, the key
of a TOML or JSON design file and, with ``-`` for ``_``, the flag of ``fastem study``
(``n_samples`` is ``--n-samples``). The study's own settings are declared here; the options
of :func:`fastem.fit` a design may set (``tol``, ``spurious``, ...) are the fields that the
table of options (``fastem.options``) marks ``design``, with its defaults, checks and flags.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .. import checks as _validate
from .. import options as _options
from .. import search
from ..init._registry import NAMES as STRATEGY_NAMES
from ..init._registry import STRATEGIES
from . import designfile
from .designfile import WANTED, BadShape, plain, shaped
from .designgrid import grid_mixtures, grid_sample_sizes, grid_scenarios
from .study_measures import QUANTILES, check_quantiles
from .study_table import is_measure
from .study_tests import TESTS, options_table, study_test


def _setting(default, kind, *, many=False, single=False, help=None, fit=False, kw_only=True):
    """A field of :class:`Design`.

    ``kind`` is the type of its value (of each value when ``many``); ``single``: one value
    stands for a list of one. ``help`` is the flag's help in ``fastem study``; ``fit``: an
    option of :func:`fastem.fit`, whose flag ``fastem study`` shares with ``fastem fit``.
    Only the mixture, the sample sizes and the replications may be given by position
    (``kw_only`` False): the others by name, whatever order the table of options gives them.
    """
    metadata = dict(kind=kind, many=many, single=single, help=help, fit=fit)
    return field(default=default, metadata=metadata, kw_only=kw_only)


@dataclass(frozen=True)
class _StudySettings:
    """Everything a Monte Carlo study (:func:`fastem.study`) needs, with the defaults of
    ``fastem study``.

    The mixture (``weights``, ``means``, ``variances``, one value per component) is
    simulated ``replications`` times for each sample size in ``n_samples`` (a design
    cell each); every strategy in ``init`` then fits each dataset with ``n_init``
    restarts. ``seed`` seeds it all. The options of :func:`fastem.fit` that the table of
    options (``fastem.options``) marks ``design`` (``tol``, ``max_iter``, ``reg_variance``,
    ``equal_variance``, ``skip_degenerate``, ``spurious``, ``se``, ``init_params``) are
    passed to it, with its defaults; ``init_params`` go to the strategies that take them.

    Several true mixtures are ``scenarios`` (a list of dicts of ``weights``, ``means``,
    ``variances`` and an optional ``name``), or a ``grid`` of design variables (``{"separation":
    [2, 3, 4], "weight": [0.5, 0.2]}``, and ``n_samples`` among them if wished) with a
    ``template`` of the mixture whose fields are numbers or expressions of them
    (``{"weights": ["weight", "1 - weight"], "means": [0, "separation"], "variances": [1,
    1]}``): every combination is a scenario (:func:`fastem.grid_scenarios`) and every
    variable a column of the table. ``plot_measure`` and ``plot_against`` ask ``fastem study
    --plot`` for a figure of a measure against a design variable
    (:func:`fastem.plots.measure_figure`).
    ``test`` (``"bootstrap_lrt"`` or ``"emtest"``), ``test_k0``, ``levels``, ``n_boot`` and
    ``test_options`` (a table) test ``test_k0`` components against more on every dataset
    (``test_k0 + 1`` for the bootstrap LRT, ``2 test_k0`` for the EM-test), with the
    rejection rates and Boos & Zhang's extrapolation of :func:`fastem.study`'s ``test``.

    Lists are kept as tuples; a single sample size or strategy stands for a list of one
    (a single weight, mean or variance does not: it is refused, as it is almost always a
    list mistyped). Values are checked when the design is made: a ``TypeError`` or
    ``ValueError`` names the option, and carries the names of the options it is about in
    ``error.options``. Every dataset needs at least one point more than the mixture has
    components.

    Examples
    --------
    >>> design = fastem.Design(means=(0.0, 6.0), variances=(1.0, 1.0), weights=(0.5, 0.5),
    ...                        n_samples=50, replications=20, init="kmeans++", n_init=2)
    >>> design.n_samples, design.init
    ((50,), ('kmeans++',))
    >>> result = design.run()
    >>> len(result.table), result.table["replications"]
    (1, array([20]))

    A value out of range is refused when the design is made, naming the option:

    >>> fastem.Design(replications=0)
    Traceback (most recent call last):
    ...
    ValueError: replications must be at least 1, got 0.
    """

    weights: tuple = _setting((0.4, 0.6), float, many=True, help="true weights", kw_only=False)
    means: tuple = _setting((-2.5, 3.5), float, many=True, help="true means", kw_only=False)
    variances: tuple = _setting((4.0, 4.0), float, many=True, help="true variances", kw_only=False)
    n_samples: tuple = _setting(
        (40,),
        int,
        many=True,
        single=True,
        help="points per dataset, one design cell each",
        kw_only=False,
    )
    replications: int = _setting(10_000, int, help="datasets per design cell", kw_only=False)
    scenarios: tuple = _setting((), dict, many=True)
    grid: dict | None = _setting(None, dict)
    template: dict | None = _setting(None, dict)
    seed: int = _setting(0, int, help="random seed")
    at_best_tol: float = _setting(
        1e-4,
        float,
        help="a restart is at the best when its log-likelihood is within this, per point, of "
        "the best any method found for the dataset",
    )
    quantiles: tuple = _setting(
        QUANTILES,
        float,
        many=True,
        single=True,
        help="quantiles (0 to 1) of the passes and the likelihood-ratio statistic, "
        "columns of --all-columns",
    )
    test: str | None = _setting(None, str, help=f"a test of K on every dataset: {', '.join(TESTS)}")
    test_k0: int = _setting(1, int, help="with --test: test test_k0 against test_k0 + 1 components")
    levels: tuple = _setting(
        (0.05,), float, many=True, single=True, help="with --test: the rejection rates' levels"
    )
    n_boot: tuple = _setting(
        (99,),
        int,
        many=True,
        single=True,
        help="with --test: the bootstrap sizes B; several: also Boos & Zhang's extrapolation to "
        "B = infinity from them (each (B + 1) level a whole number)",
    )
    test_options: dict | None = _setting(None, options_table)
    plot_measure: str | None = _setting(
        None,
        str,
        help="with --plot: also draw this column of the table (e.g. mean_2_bias, at_best) "
        "against --plot-against, one line per method, with 1.96 MCSE bars",
    )
    plot_against: str | None = _setting(
        None,
        str,
        help="the design variable on the x axis of --plot-measure's figure: n_samples or a "
        "variable of the grid; when not given, the grid's first variable, else n_samples",
    )

    def __post_init__(self):
        for option in fields(self):
            with _about(option.name):
                try:
                    value = shaped(option, getattr(self, option.name))
                except BadShape as error:
                    raise TypeError(str(error)) from None
            object.__setattr__(self, option.name, value)
        if self.grid and "n_samples" in self.grid:
            default = next(f.default for f in fields(self) if f.name == "n_samples")
            with _about("grid", "n_samples"):
                sizes, grid = grid_sample_sizes(self.grid, self.n_samples, default)
            object.__setattr__(self, "n_samples", sizes)
            object.__setattr__(self, "grid", grid)
        with _about("grid", "template"):
            mixtures = grid_mixtures(self.grid, self.template, self.scenarios)
        for scenario in mixtures or [None]:
            self._check_mixture(scenario)
        with _about("n_samples"):
            needed = (
                max(len(scenario["weights"]) for scenario in mixtures) + 1
                if mixtures
                else len(self.weights) + 1
            )
            needed = max([needed, *(k + 1 for k in self.n_components)])
            for n in self.n_samples:
                _validate.check_int("n_samples", n, 1)
                if n < needed:
                    raise ValueError(
                        f"n_samples must be at least {needed} for a mixture of {needed - 1} "
                        f"components (more points than components), got {n}."
                    )
        with _about("replications"):
            _validate.check_int("replications", self.replications, 1)
        with _about("init"):
            for strategy in self.init:
                if "=" in strategy:  # a pool, "random=10,kmeans++=10"
                    search.parse_init(strategy)
                else:
                    _validate.check_choice("init", strategy, STRATEGY_NAMES)
        with _about("algorithm"):
            for algorithm in self.algorithm:
                _validate.check_choice("algorithm", algorithm, _options.ALGORITHMS)
        with _about("stop"):
            for rule in self.stop:
                _validate.check_choice("stop", rule, _options.STOPPING_RULES)
        with _about("n_components"):
            for k in self.n_components:
                _validate.check_int("n_components", k, 0)
        with _about("n_init"):
            _validate.check_int("n_init", self.n_init, 1)
        with _about("seed"):
            _validate.check_int("seed", self.seed, 0)
        with _about("at_best_tol"):
            _validate.check_non_negative("at_best_tol", self.at_best_tol)
        with _about("quantiles"):
            check_quantiles(self.quantiles)
        with _about("test", "test_k0", "levels", "n_boot", "test_options"):
            study_test(self.test, self.test_k0, self.levels, self.n_boot, self.test_options)
        for option in _options.DESIGN_OPTIONS:
            with _about(option.name):
                if option.check is not None:
                    option.check(getattr(self, option.name))
        with _about("init_params"):
            self._check_init_params()
        self._check_plot()

    def _check_plot(self):
        """``plot_measure`` must be a measure of the table with an MCSE; ``plot_against``
        ``n_samples`` or a grid variable."""
        variables = ["n_samples", *(self.grid or {})]
        with _about("plot_against"):
            if self.plot_against is not None and self.plot_against not in variables:
                raise ValueError(
                    f"plot_against must be one of the design's variables "
                    f"({', '.join(variables)}), got {self.plot_against!r}."
                )
        with _about("plot_measure"):
            if self.plot_measure is not None and not is_measure(self.plot_measure):
                raise ValueError(
                    f"plot_measure must be a measure of the study's table that has an MCSE "
                    f"(e.g. at_best, passes_median, mean_2_bias), got {self.plot_measure!r}."
                )

    def _check_init_params(self):
        """``init_params`` must be options of a strategy of ``init`` (a pool's included)."""
        if not self.init_params:
            return
        known = {key for strategy in self.init for key in _strategy_options(strategy)}
        unknown = sorted(set(self.init_params) - known)
        if unknown:
            raise ValueError(
                f"init_params {unknown} are not options of any strategy in init {list(self.init)}."
            )

    def _check_mixture(self, scenario=None):
        """The true mixture (or a scenario's), as :func:`fastem.simulate` needs it, checked
        here so that the message names the options."""
        if scenario is None:
            self._check_one_mixture(self, "")
            return
        try:
            self._check_one_mixture(
                SimpleNamespace(**scenario), f"scenario {scenario.get('name') or '?'}: "
            )
        except (TypeError, ValueError) as error:
            error.options = ("scenarios",)
            raise

    @staticmethod
    def _check_one_mixture(self, where):
        sizes = [len(self.weights), len(self.means), len(self.variances)]
        with _about("weights", "means", "variances"):
            if len(set(sizes)) > 1:
                raise ValueError(
                    where
                    + "weights, means and variances need one value per "
                    "component; got {}, {} and {}".format(*sizes)
                )
        with _about("weights"):
            weights = np.array(self.weights)
            if (weights < 0).any() or not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-8):
                raise ValueError(
                    f"{where}weights must be >= 0 and sum to 1, got "
                    f"{list(self.weights)} "
                    f"(sum {weights.sum():.10g})."
                )
        with _about("means"):
            if not np.isfinite(self.means).all():
                raise ValueError(f"{where}means must be finite numbers, got {list(self.means)}.")
        with _about("variances"):
            if not (np.isfinite(self.variances).all() and min(self.variances) > 0):
                raise ValueError(
                    f"{where}variances must be positive and finite, got {list(self.variances)}."
                )
        # The simulated datasets must pass fit's check of their scale: a mixture whose
        # spread float64 cannot square would otherwise fail in the middle of the run.
        means, variances = np.array(self.means, float), np.array(self.variances, float)
        with np.errstate(over="ignore", invalid="ignore"):
            centre = float(np.dot(weights, means))
            sd = math.sqrt(np.dot(weights, variances) + np.dot(weights, (means - centre) ** 2))
        low, high = _validate.SCALE_RANGE
        if not (low <= sd <= high and np.abs(means).max() <= high):
            with _about("means", "variances"):
                spread = (
                    f"of standard deviation {sd:.3g}"
                    if np.isfinite(sd)
                    else "whose spread overflows float64"
                )
                raise ValueError(
                    f"{where}means {list(self.means)} and variances "
                    f"{list(self.variances)} give data {spread}, but a fit needs "
                    f"a scale from {low:g} to {high:g} and values within "
                    f"+-{high:g}; rescale the mixture (fits are invariant to "
                    "scale)."
                )

    @classmethod
    def options(cls) -> tuple:
        """The names of the options, in order."""
        return tuple(option.name for option in fields(cls))

    @classmethod
    def from_file(cls, path, **overrides) -> Design:
        """The design in a TOML (``.toml``) or JSON (any other suffix) file: the defaults
        updated with the file's options, then with ``overrides`` that are not None.

        Raises ``ValueError`` with one line starting with ``path`` for a file that is
        missing, unreadable, not UTF-8, not valid TOML/JSON, not a table, or that holds
        unknown options or values of the wrong type.
        """
        options = designfile.read(Path(path), fields(cls))
        options.update(_given(overrides))
        return cls(**options)

    def override(self, **options) -> Design:
        """A copy with ``options`` that are not None in place of this design's."""
        return replace(self, **_given(options))

    def to_dict(self) -> dict:
        """The options as plain Python values (lists for tuples), as in a JSON file; with
        scenarios, without the single mixture's weights, means and variances."""
        unused = ("weights", "means", "variances") if self.scenarios or self.grid else ()
        return {name: plain(getattr(self, name)) for name in self.options() if name not in unused}

    def study_arguments(self) -> dict:
        """The keyword arguments of :func:`fastem.study` for this design."""
        from .study import Scenario

        arguments = self.to_dict()
        arguments["random_state"] = arguments.pop("seed")
        scenarios = arguments.pop("scenarios")
        grid, template = arguments.pop("grid"), arguments.pop("template")
        del arguments["plot_measure"], arguments["plot_against"]  # the figures' own
        test = [arguments.pop(name) for name in ("test", "test_k0", "levels", "n_boot")]
        arguments["test"] = study_test(*test, arguments.pop("test_options"))
        if grid is not None:
            arguments["scenarios"] = list(grid_scenarios(grid, template))
        elif scenarios:
            arguments["scenarios"] = [
                Scenario(s["weights"], s["means"], s["variances"], str(s.get("name", "")))
                for s in scenarios
            ]
        arguments["init_params"] = self._init_params_per_strategy()
        arguments["spurious"] = self.spurious
        ks = arguments.pop("n_components")
        arguments["n_components"] = None if ks == [0] else [None if k == 0 else k for k in ks]
        if arguments["tol"] is None:
            del arguments["tol"]  # each stopping rule's own default
        return arguments

    def _init_params_per_strategy(self) -> dict:
        """``init_params`` as :func:`fastem.study` takes them: per strategy, those it takes
        (the strategies that take none are left out)."""
        given = self.init_params or {}
        per_strategy = {
            strategy: {
                key: value for key, value in given.items() if key in _strategy_options(strategy)
            }
            for strategy in self.init
        }
        return {strategy: params for strategy, params in per_strategy.items() if params}

    def run(self, **options):
        """:func:`fastem.study` of this design; ``options`` are its other arguments
        (``progress``, ``client``, ``trace``, ``chunk_size``, ...)."""
        from .study import study

        return study(**self.study_arguments(), **options)


def _strategy_options(strategy: str) -> tuple:
    """The options of a strategy, or of the strategies of a pool ("random=10,emem=5")."""
    names = list(search.parse_init(strategy)) if "=" in strategy else [strategy]
    return tuple(key for name in names if name in STRATEGIES for key in STRATEGIES[name].options)


def _study_option(option) -> tuple:
    """The field of :class:`Design` for an option of :func:`fastem.fit` that a study sets in
    a way of its own: a list of values to compare, or its own default."""
    kind = option.parse if option.parse in WANTED else str
    default = option.defaults["design"]
    setting = _setting(
        default, kind, many=option.compared, single=option.compared, help=option.study_help
    )
    return option.name, object, setting


def _fit_option(option) -> tuple:
    """The field of :class:`Design` for an option of :func:`fastem.fit` that a design hands
    on as it is: its value is read by the option's parser (a simple kind is checked by
    :func:`fastem.toolkit.designfile.shaped` with the design's messages)."""
    return option.name, object, _setting(option.default, option.parse, help=option.help, fit=True)


Design = dataclasses.make_dataclass(
    "Design",
    [
        *(_study_option(option) for option in _options.STUDY_OPTIONS),
        *(_fit_option(option) for option in _options.DESIGN_OPTIONS),
    ],
    bases=(_StudySettings,),
    frozen=True,
    namespace={"__doc__": _StudySettings.__doc__, "__module__": __name__},
)


@contextlib.contextmanager
def _about(*names):
    """Mark a TypeError or ValueError raised inside with the options it is about
    (``error.options``), so that ``fastem study`` can name the flag or the design file that
    gave them."""
    try:
        yield
    except (TypeError, ValueError) as error:
        error.options = names
        raise


def _given(options: dict) -> dict:
    unknown = sorted(set(options) - set(Design.options()))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}")
    return {name: value for name, value in options.items() if value is not None}


def read_options(path) -> dict:
    """The options in a design file (TOML or JSON), each of the right type and shape;
    ``ValueError`` with one line starting with the path for a file that cannot be read."""
    return designfile.read(Path(path), fields(Design))

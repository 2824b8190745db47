"""The starting-value strategies: the one list of them, with their options.

A strategy computed by a starting-value kernel names it (``_kernels.kmeans_plusplus`` and
so on); emEM runs short EM fits from another strategy instead. Adding a strategy means a
kernel in ``_kernels`` and an entry here; a strategy of short runs names their algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import checks as _validate
from ..engine import hc as _hc
from ..engine import starts as _kernels


@dataclass(frozen=True)
class Strategy:
    """One way to choose starting values: its name, the kernel that computes it (None for
    short runs), the defaults of its ``init_params``, other names it answers to, whether it
    is deterministic (every restart of a dataset the same start, so one is enough), and the
    algorithm of its short runs (emEM's EM, CEM-EM's CEM, SEM-EM's SEM; None for a kernel)."""

    name: str
    kernel: object
    options: dict = field(default_factory=dict)
    aliases: tuple = ()
    deterministic: bool = False
    short_run: str | None = None


EMEM_STARTS = ("kmeans++", "random_from_data", "random")
"""The strategies short runs (emEM, CEM-EM, SEM-EM) may start from."""

STRATEGIES = {
    s.name: s
    for s in (
        Strategy("kmeans++", _kernels.kmeans_plusplus, aliases=("k-means++",)),
        Strategy("random_from_data", _kernels.random_from_data),
        Strategy("kmeans", _kernels.kmeans),
        Strategy("quantile", _kernels.quantile, deterministic=True),
        Strategy("random", _kernels.random),
        Strategy(
            "emem",
            None,
            {"n_runs": 10, "n_iter": 5, "start": "random_from_data"},
            (),
            short_run="em",
        ),
        # Rmixmod's initMethod="CEM" (10 runs of 50 CEM iterations, at most: CEM stops when
        # its partition does) and "SEMMax" (100 SEM iterations, the best iterate kept).
        Strategy(
            "cem_em",
            None,
            {"n_runs": 10, "n_iter": 50, "start": "random_from_data"},
            short_run="cem",
        ),
        Strategy(
            "sem_em",
            None,
            {"n_runs": 1, "n_iter": 100, "start": "random_from_data"},
            short_run="sem",
        ),
        Strategy("hc", _kernels.hc, {"model": "V"}, deterministic=True),
        Strategy("rndem", _kernels.rndem, {"n_candidates": 200}),
    )
}
NAMES = tuple(STRATEGIES)
DETERMINISTIC = tuple(name for name, s in STRATEGIES.items() if s.deterministic)
"""The strategies whose restarts are all the same start."""

HC_MODELS = {"V": _hc.V, "E": _hc.E}
"""The models of ``"hc"``'s clustering (mclust's ``hc(x, modelName = ...)``), by name."""


def checked(init: str, init_params: dict | None) -> tuple[Strategy, dict]:
    """The strategy named ``init`` and its options: its defaults updated with
    ``init_params``, each checked."""
    strategy = STRATEGIES[_validate.check_choice("init", init, NAMES)]
    options = dict(strategy.options)
    if init_params is not None:
        if not isinstance(init_params, dict):
            raise TypeError(f"init_params must be a dict, got {type(init_params).__name__}.")
        unknown = sorted(set(init_params) - set(options))
        if unknown:
            known = ", ".join(sorted(options)) or "none"
            raise ValueError(
                f"init_params {unknown} are not options of init={init!r} (its options: {known})."
            )
        options.update(init_params)
    if strategy.short_run is not None:
        for name in ("n_runs", "n_iter"):
            options[name] = _validate.check_int(
                f"init_params[{name!r}]", options[name], 1, _validate.MAX_ITER_LIMIT
            )
        options["start"] = _validate.check_choice(
            "init_params['start']", options["start"], EMEM_STARTS
        )
    if strategy.name == "hc":
        options["model"] = _validate.check_choice(
            "init_params['model']", options["model"], tuple(HC_MODELS)
        )
    if strategy.name == "rndem":
        options["n_candidates"] = _validate.check_int(
            "init_params['n_candidates']", options["n_candidates"], 1, _validate.MAX_ITER_LIMIT
        )
    return strategy, options


def kernel_options(strategy: Strategy, options: dict) -> dict:
    """The fields of :class:`~fastem.engine.arguments.StartOptions` that carry a strategy's
    checked ``options`` to its kernel (none for most strategies)."""
    if strategy.name == "hc":
        return {"hc_model": HC_MODELS[options["model"]]}
    if strategy.name == "rndem":
        return {"n_candidates": options["n_candidates"]}
    return {}

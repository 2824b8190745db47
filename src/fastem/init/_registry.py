"""The starting-value strategies: the one list of them, with their options.

A strategy computed by a starting-value kernel names it (``_kernels.kmeans_plusplus`` and
so on); emEM runs short EM fits from another strategy instead. Adding a strategy means a
kernel in ``_kernels`` and an entry here; a strategy of short runs names their algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import checks as _validate
from ..engine import starts as _kernels


@dataclass(frozen=True)
class Strategy:
    """One way to choose starting values: its name, the kernel that computes it (None for
    short runs), the defaults of its ``init_params``, other names it answers to, and the
    algorithm of its short runs (emEM's EM, CEM-EM's CEM, SEM-EM's SEM; None for a kernel)."""

    name: str
    kernel: object
    options: dict = field(default_factory=dict)
    aliases: tuple = ()
    short_run: str | None = None


EMEM_STARTS = ("kmeans++", "random_from_data", "random")
"""The strategies short runs (emEM, CEM-EM, SEM-EM) may start from."""

STRATEGIES = {
    s.name: s
    for s in (
        Strategy("kmeans++", _kernels.kmeans_plusplus, aliases=("k-means++",)),
        Strategy("random_from_data", _kernels.random_from_data),
        Strategy("kmeans", _kernels.kmeans),
        Strategy("quantile", _kernels.quantile),
        Strategy("random", _kernels.random),
        Strategy("emem", None, {"n_runs": 10, "n_iter": 5, "start": "random_from_data"}, (), "em"),
        # Rmixmod's initMethod="CEM" (10 runs of 50 CEM iterations, at most: CEM stops when
        # its partition does) and "SEMMax" (100 SEM iterations, the best iterate kept).
        Strategy(
            "cem_em", None, {"n_runs": 10, "n_iter": 50, "start": "random_from_data"}, (), "cem"
        ),
        Strategy(
            "sem_em", None, {"n_runs": 1, "n_iter": 100, "start": "random_from_data"}, (), "sem"
        ),
    )
}
NAMES = tuple(STRATEGIES)


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
    return strategy, options

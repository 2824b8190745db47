"""The options of :func:`fastem.fit` about the data, the model and the starting values: the
first part of the table (:data:`fastem.options.FIT_OPTIONS`)."""

from __future__ import annotations

from .. import checks as _validate
from .. import priors, search
from .option import Option, boolean, integer, one_of, parse_init_params, parse_penalty, restarts

OPTIONS = (
    Option(
        "n_components",
        2,
        "int, default 2",
        """
        Number of mixture components ``K``.
        """,
        check=integer("n_components", 1, None),
        flag="--components",
        defaults={"design": (0,), "select": range(1, 7), "study": None},
        toolkit=("bootstrap",),
        study_help=(
            "components fitted, one set of rows each (over- and under-fitting); 0 is the true "
            "number"
        ),
        compared=True,
        parse=int,
        positions={"fit": 1, "dask": 1, "select": 1, "bootstrap": 1},
    ),
    Option(
        "n_init",
        1,
        'int or "auto", default 1',
        """
        Restarts per dataset; or "auto": restarts in rounds (of 10, 10, 20, ...
        restarts) for the datasets whose search is not yet settled (see ``unseen_tol``),
        until it is or ``max_init`` restarts are spent. Under the parameter rule with a
        ``tol`` below :data:`fastem.search.SEARCH_TOL` (1e-5; the default), the rounds run
        to that, and each dataset's best restart then on to ``tol`` (with ``trace``, every
        restart to ``tol``).
        Each dataset's search is reported (``n_restarts``, ``n_maxima``, ``n_at_best``,
        ``p_unseen``, ``settled``); those that end unsettled are counted in a
        :class:`SearchWarning`.
        """,
        check=restarts,
        flag="--n-init",
        defaults={"design": 5, "select": "auto", "study": 5, "bootstrap": 5, "bootstrap_lrt": 5},
        toolkit=("bootstrap", "bootstrap_lrt"),
        study_help="restarts per dataset",
        parse=int,
    ),
    Option(
        "init",
        None,
        "str or dict, optional",
        """
        How starting values not given explicitly are chosen: "kmeans++" (the default
        with a number of restarts), "random_from_data", "kmeans", "quantile", "random"
        (mixtools' scheme), "emem", "cem_em" or "sem_em" (short runs of EM, CEM or SEM),
        "hc" (mclust's model-based hierarchical clustering) or "rndem" (the best of many
        random starts by log-likelihood); see :mod:`fastem.init`. A dict
        of restarts per strategy pools them, as EMMIX does: ``{"random": 10,
        "kmeans++": 10}`` is 20 restarts per dataset, the best of all kept (``n_init``
        is then the total, or left at 1). With ``n_init="auto"`` each round is such a
        pool, in these proportions; by default :data:`fastem.search.AUTO_POOL`: random data
        points, mixtools' random starts and emEM, which find the maxima the others miss.
        """,
        flag="--init",
        defaults={"design": ("kmeans++", "random", "emem"), "study": ("kmeans++",)},
        study_help="starting-value strategies to compare",
        compared=True,
        parse=str,
    ),
    Option(
        "init_params",
        None,
        "dict, optional",
        """
        Options of the strategy; for "emem": ``n_runs`` (10) short runs of ``n_iter``
        (5) iterations each from ``start`` ("random_from_data"); for "cem_em" the same
        with 10 runs of at most 50, for "sem_em" 1 run of 100; for "hc": ``model`` ("V", a
        variance per group, or "E"); for "rndem": ``n_candidates`` (200) random starts per
        restart.
        """,
        flag="--init-params",
        help=(
            "options of the starting-value strategy, as name=value pairs: "
            "n_runs=10,n_iter=5,start=random_from_data for emem, model=V or model=E for "
            "hc, n_candidates=200 for rndem (default: none, the strategy's own)"
        ),
        parse=parse_init_params,
        design=True,
    ),
    Option(
        "max_init",
        search.AUTO_MAX_INIT,
        "int, default 50",
        """
        With ``n_init="auto"``: most restarts per dataset.
        """,
        check=integer("max_init", 1),
        flag="--max-init",
    ),
    Option(
        "unseen_tol",
        search.UNSEEN_TOL,
        "float, default 0.05",
        """
        A dataset's search is *settled* when its best maximum was reached by at least
        two restarts and the Good-Turing estimate of the probability that one more
        restart finds a maximum not seen yet (Finch, Mendell & Thode 1989: the share of
        restarts whose maximum no other restart reached) is at most ``unseen_tol``.
        Restarts count when they compete for the result: the regular ones with
        ``skip_degenerate``, all that ran otherwise; log-likelihoods within ``1e-6 (1 +
        |l|)`` are one maximum. A single restart is never settled.
        """,
        check=lambda value: _validate.check_level(value, "unseen_tol"),
        flag="--unseen-tol",
        per_batch="unseen_tol",
    ),
    Option(
        "weights_init",
        None,
        "array, optional",
        """
        Starting values of shape (K,) for every fit, (n_datasets, K) per dataset, or
        (n_datasets, n_init, K) per fit, in the data's units. Those given are used as
        they are; the others come from ``init``.
        """,
        start=True,
    ),
    Option(
        "means_init",
        None,
        None,
        start=True,
    ),
    Option(
        "variances_init",
        None,
        None,
        start=True,
    ),
    Option(
        "sample_weight",
        None,
        "array, optional",
        """
        A non-negative weight per point, in the shape of ``data``. Integer weights fit
        the data with points repeated; counts at bin centres fit binned data.
        """,
        toolkit=("bootstrap", "bootstrap_lrt"),
    ),
    Option(
        "sample_weight_type",
        "frequency",
        '{"frequency", "probability"}, default "frequency"',
        """
        What the weights are. Frequency weights are counts: a point of weight 3 counts
        as three points, and BIC's ``n`` is the sum of the weights. Probability
        (sampling) weights say how much each point represents, not how many: they are
        rescaled to sum to the number of points with a positive weight, which is then
        BIC's ``n``. Frequency weights that sum to less than half the number of points
        they weight draw a warning, as they are most likely probability weights.
        """,
        check=one_of("sample_weight_type", _validate.SAMPLE_WEIGHT_TYPES),
        flag="--weights-type",
        toolkit=("bootstrap", "bootstrap_lrt"),
    ),
    Option(
        "equal_variance",
        False,
        "bool, default False",
        """
        One variance shared by all components (mclust's "E" model).
        """,
        check=boolean("equal_variance"),
        flag="--equal-variance",
        help="one variance shared by all components",
        parse=bool,
        design=True,
        toolkit=("bootstrap",),
        set_by=("select",),
        in_messages=False,
    ),
    Option(
        "equal_weights",
        False,
        "bool, default False",
        """
        Weights held at ``1/K`` (mclust's ``equalPro``).
        """,
        check=boolean("equal_weights"),
        toolkit=("bootstrap",),
    ),
    Option(
        "fix_weights",
        False,
        "bool or array of bool of shape (K,)",
        """
        Hold those parameters (of all components, or of those marked) at their given
        starting values, which must then be passed.
        """,
    ),
    Option(
        "fix_means",
        False,
        None,
    ),
    Option(
        "fix_variances",
        False,
        None,
    ),
    Option(
        "penalty",
        None,
        'None, "ctz", float or dict, optional',
        """
        Penalised maximum likelihood (Chen, Tan & Zhang 2008): the log-likelihood plus
        ``-a_n sum_k (s^2 / sigma_k^2 + log(sigma_k^2 / s^2))``, ``s^2`` the dataset's
        sample variance (divisor ``n - 1``), which keeps every variance away from 0, so
        that degenerate fits are no maxima. ``"ctz"``: ``a_n = n^(-1/2)``; a number:
        that ``a_n``; a dict of ``a_n`` and ``mixing`` (Chen & Li's ``C sum_k log
        pi_k`` on the weights, 0 by default). EM climbs the penalised log-likelihood
        (reported as ``penalized_log_likelihood``); ``log_likelihood`` and the criteria
        are the plain ones. Not with CEM or SEM. See the guide's page on degeneracy.
        """,
        check=lambda value: priors.checked("penalty", value),
        flag="--penalty",
        help=(
            "penalised likelihood: ctz (a_n = n^-1/2), a number (a_n), or "
            "a_n=...,mixing=... (default: none)"
        ),
        parse=parse_penalty,
        toolkit=("bootstrap", "bootstrap_lrt"),
        defaults={"design": ("none",), "study": ("none",)},
        study_help=(
            "penalties to compare: none, ctz, a number (a_n) or a_n=...,mixing=...; one set "
            "of rows each"
        ),
        compared=True,
    ),
    Option(
        "prior",
        None,
        'None, "default" or dict, optional',
        """
        A conjugate prior, as mclust's ``priorControl()``: the MAP estimate, with
        means shrunk to ``mean`` by ``shrinkage`` (0.01) and variances with an inverse
        gamma prior of ``dof`` (3) and ``scale`` (``var(x) / K^2``); ``"default"`` for
        mclust's ``defaultPrior``, a dict to set some of them. BIC is mclust's: on the
        plain log-likelihood. Not with ``penalty``, CEM or SEM.
        """,
        check=lambda value: priors.checked("prior", value),
        flag="--prior",
        help=(
            "conjugate prior (MAP): default (mclust's defaultPrior) or "
            "shrinkage=...,mean=...,dof=...,scale=... (default: none)"
        ),
        parse=parse_penalty,
        design=True,
        toolkit=("bootstrap", "bootstrap_lrt"),
    ),
)
"""In the order of :func:`fastem.fit`'s signature."""

"""``fastem.fit``: many 1D Gaussian mixtures, many restarts, one call."""

from __future__ import annotations

import warnings

import numpy as np

from . import checks as _validate
from . import search
from .engine import information as _information
from .engine import run as _em
from .restarts import Choice, Stopping, best_of_restarts
from .result import FitResult, squeeze
from .spurious import SpuriousRule, check_rule

DEFAULT_MAX_ITER = 1000
DEFAULT_TOL = 1e-6
DEFAULT_REG_VARIANCE = 0.0
ALGORITHMS = tuple(_em.ALGORITHMS)
STOPPING_RULES = tuple(_em.STOPPING_RULES)
SE_METHODS = tuple(_information.METHODS)
DEFAULT_TOLS = {"loglik": DEFAULT_TOL, "relative": 1e-5, "aitken": 1e-5, "parameter": 1e-9}
"""Each stopping rule's default ``tol``: fastem's own; mclust's ``emControl`` (1e-5);
MoEClust's (1e-5, with ``stopping = "aitken"``); and for the parameter rule, fit's default,
1e-9, where turboEM's ``control.run`` has 1e-7: SQUAREM takes a few steps more, and every
parameter ends within 1e-6 relative of the maximum on the real datasets of ``tests/data``
(at 1e-7, 15 of the panel's 126 candidates were not)."""
PARAMETER_TOL_FLOAT32 = 1e-7
"""The parameter rule's default ``tol`` with ``dtype=np.float32``, whose E-step resolves the
maximum to about 1e-8 relative and no finer."""
DEFAULT_SPURIOUS = SpuriousRule()
"""The rule for spurious maxima by default (see :class:`fastem.SpuriousRule`)."""


def fit(
    data,
    n_components=2,
    *,
    n_init=1,
    init=None,
    init_params=None,
    max_init=search.AUTO_MAX_INIT,
    unseen_tol=search.UNSEEN_TOL,
    weights_init=None,
    means_init=None,
    variances_init=None,
    sample_weight=None,
    sample_weight_type="frequency",
    equal_variance=False,
    equal_weights=False,
    fix_weights=False,
    fix_means=False,
    fix_variances=False,
    max_iter=DEFAULT_MAX_ITER,
    tol=None,
    algorithm="squarem",
    stop="parameter",
    reg_variance=DEFAULT_REG_VARIANCE,
    random_state=None,
    trace=False,
    return_restarts=False,
    skip_degenerate=False,
    spurious=DEFAULT_SPURIOUS,
    dataset_offset=0,
    sort_components=True,
    se=None,
    warn=True,
    dtype=np.float64,
) -> FitResult:
    """Fit a Gaussian mixture by EM to every dataset, with ``n_init`` restarts each.

    Every (dataset, restart) pair is an independent fit; all of them run in one
    parallel loop. Each dataset keeps its restart with the highest log-likelihood.

    Parameters
    ----------
    data : array of shape (n_samples,) or (n_datasets, n_samples), or list of 1D arrays
        One dataset, one dataset per row, or datasets of different lengths. Integer
        and float32 data are computed in float64.
    n_components : int, default 2
        Number of mixture components ``K``.
    n_init : int or "auto", default 1
        Restarts per dataset; or "auto": restarts in rounds (of 10, 10, 20, ...
        restarts) for the datasets whose search is not yet settled (see ``unseen_tol``),
        until it is or ``max_init`` restarts are spent. Under the parameter rule with a
        ``tol`` below ``search.SEARCH_TOL`` (1e-5; the default), the rounds run to that, and
        each dataset's best restart then on to ``tol`` (with ``trace``, every restart to
        ``tol``).
        Each dataset's search is reported (``n_restarts``, ``n_maxima``, ``n_at_best``,
        ``p_unseen``, ``settled``); those that end unsettled are counted in a
        :class:`SearchWarning`.
    init : str or dict, optional
        How starting values not given explicitly are chosen: "kmeans++" (the default
        with a number of restarts), "random_from_data", "kmeans", "quantile", "random"
        (mixtools' scheme) or "emem" (short runs of EM); see :mod:`fastem.init`. A dict
        of restarts per strategy pools them, as EMMIX does: ``{"random": 10,
        "kmeans++": 10}`` is 20 restarts per dataset, the best of all kept (``n_init``
        is then the total, or left at 1). With ``n_init="auto"`` each round is such a
        pool, in these proportions; by default ``search.AUTO_POOL``: random data points,
        mixtools' random starts and emEM, which find the maxima the others miss.
    init_params : dict, optional
        Options of the strategy; for "emem": ``n_runs`` (10) short runs of ``n_iter``
        (5) iterations each from ``start`` ("random_from_data").
    max_init : int, default 50
        With ``n_init="auto"``: most restarts per dataset.
    unseen_tol : float, default 0.05
        A dataset's search is *settled* when its best maximum was reached by at least
        two restarts and the Good-Turing estimate of the probability that one more
        restart finds a maximum not seen yet (Finch, Mendell & Thode 1989: the share of
        restarts whose maximum no other restart reached) is at most ``unseen_tol``.
        Restarts count when they compete for the result: the regular ones with
        ``skip_degenerate``, all that ran otherwise; log-likelihoods within ``1e-6 (1 +
        |l|)`` are one maximum. A single restart is never settled.
    weights_init, means_init, variances_init : array, optional
        Starting values of shape (K,) for every fit, (n_datasets, K) per dataset, or
        (n_datasets, n_init, K) per fit, in the data's units. Those given are used as
        they are; the others come from ``init``.
    sample_weight : array, optional
        A non-negative weight per point, in the shape of ``data``. Integer weights fit
        the data with points repeated; counts at bin centres fit binned data.
    sample_weight_type : {"frequency", "probability"}, default "frequency"
        What the weights are. Frequency weights are counts: a point of weight 3 counts
        as three points, and BIC's ``n`` is the sum of the weights. Probability
        (sampling) weights say how much each point represents, not how many: they are
        rescaled to sum to the number of points with a positive weight, which is then
        BIC's ``n``. Frequency weights that sum to less than half the number of points
        they weight draw a warning, as they are most likely probability weights.
    equal_variance : bool, default False
        One variance shared by all components (mclust's "E" model).
    equal_weights : bool, default False
        Weights held at ``1/K`` (mclust's ``equalPro``).
    fix_weights, fix_means, fix_variances : bool or array of bool of shape (K,)
        Hold those parameters (of all components, or of those marked) at their given
        starting values, which must then be passed.
    max_iter : int, default 1000
        Most EM iterations per fit (with SQUAREM, accepted steps: up to three passes each).
    tol : float, optional
        The stopping rule's tolerance; by default the rule's own (``DEFAULT_TOLS``: 1e-9
        for "parameter", 1e-7 with ``dtype=np.float32``; 1e-6 for "loglik"). ``tol=0``
        runs exactly ``max_iter`` iterations (accepted steps).
    algorithm : {"squarem", "em"}, default "squarem"
        SQUAREM, which reaches the same maxima as EM in a fraction of the passes, or
        plain EM (what a study of EM itself compares, and scikit-learn's estimator runs).
        SQUAREM (Varadhan & Roland 2008, scheme SqS3, as R's SQUAREM
        ``method = 3``): two EM maps, an extrapolation in coordinates where every point is
        a valid mixture (log weights, means, log variances), and a stabilising EM map, with
        a fall back to the plain EM step whenever the extrapolated point has a lower
        log-likelihood than the step's start (R's SQUAREM tests the stabilised point and
        tolerates a decrease of 1; here no accepted step lowers it). Constraints and fixed
        parameters hold at every step.
        ``n_iter`` counts accepted steps; ``n_fpeval`` counts EM maps (passes over the
        data that produce parameters) for both.
    stop : {"parameter", "loglik", "relative", "aitken"}, default "parameter"
        When a fit has converged, between two accepted steps ``t - 1`` and ``t``:
        "loglik" (fastem's rule): the mean log-likelihood per point changed by less than
        ``tol`` (default 1e-6); "relative" (mclust's rule): ``|l_t - l_{t-1}| / (1 + |l_t|)
        < tol`` (default 1e-5, ``l`` in the data's units); "aitken" (Böhning et al. 1994,
        McNicholas et al. 2010, MoEClust's default): the Aitken-accelerated limit ``l_inf
        = l_{t-1} + (l_t - l_{t-1}) / (1 - a_t)``, ``a_t = (l_t - l_{t-1}) / (l_{t-1} -
        l_{t-2})``, is within ``tol`` of ``l_t`` (default 1e-5, on the total); "parameter"
        (turboEM's default type): the L2 change of all parameters, in standardised units,
        is below ``tol`` (default 1e-9), and so is the change of the mean log-likelihood
        per point (which keeps a component collapsing onto tied points, whose variance
        changes by little while the likelihood grows without bound, running to the floor
        where it is flagged; at a maximum it holds whenever the first does). The defaults,
        SQUAREM with the parameter rule at 1e-9, end within 1e-6 relative of the maximum in
        every parameter on the real datasets of ``tests/data`` where they reach it (plain EM with
        the log-likelihood rule stops up to 3% away from it where EM is slow: a change of
        the log-likelihood below ``tol`` is not a parameter that close to its limit).
    reg_variance : float, default 0
        Added to every variance at each M-step, as a fraction of the dataset's variance
        (scikit-learn's ``reg_covar``, made scale-free). The default 0 is plain EM, as in
        mixtools and mclust: any positive value biases variances, and the more so the
        farther apart the components are (it is relative to the whole dataset's variance).
        A variance never goes below 1e-15 of the dataset's (a floor, not an addition), so
        a collapsing component keeps a finite density and is flagged.
    random_state : None, int or numpy.random.Generator
        Seed of the random starts. Restart ``r`` of a dataset draws from a stream keyed by
        ``random_state``, a hash of the dataset's values and weights, and ``r``: the same
        data get the same fit at any place of any batch, file or chunking, with any number
        of threads.
    trace : bool or int, default False
        Keep the log-likelihood after every iteration of every fit (``8 * (max_iter + 1)``
        bytes per fit); an integer ``L`` keeps only the first ``L`` entries (at most
        ``max_iter + 1``), the rest of ``trace`` is then cut off.
    return_restarts : bool, default False
        Keep every restart's starting values and final parameters.
    dataset_offset : int, default 0
        Global index of the first dataset, for messages: a chunk of a larger batch names
        its datasets as the whole batch would. (Seeding does not depend on it: fitting
        rows ``a:b`` of a batch gives exactly rows ``a:b`` of fitting the whole batch.)
    skip_degenerate : bool, default False
        Choose each dataset's best restart among the regular ones (not
        ``Status.SPURIOUS``, ``VARIANCE_FLOORED`` or ``NON_FINITE``) when there is one. By
        default the highest log-likelihood wins, which on small datasets is often a
        spurious maximum: a component on a few close points.
    spurious : SpuriousRule, default SpuriousRule()
        What counts as a spurious maximum (``Status.SPURIOUS``): a component on fewer
        than 5 expected points with a variance below 0.01 of the largest, by default.
    sort_components : bool, default True
        Return each fit's components in order of increasing mean, so that the
        components of different datasets and restarts line up. With False they keep the
        order of their starting values (as scikit-learn's do), which matters when
        ``means_init`` says which component is which.
    se : {None, "score", "louis"}, default None
        Standard errors of the returned fit of every dataset, from the observed
        information matrix, in one parallel pass over the data
        (``FitResult.standard_errors``, a :class:`StandardErrors`): "score" takes the
        outer product of the per-point scores (Basford et al. 1997, as R's mixsmsn
        ``im.smsn``), "louis" the exact negative Hessian of the log-likelihood by Louis's
        (1982) method. The parameters are mixtools': the weights less one (the last free
        weight is what the others leave), the means, and the variances. Fixed
        parameters are not parameters (their standard errors are NaN), and a shared
        variance is one. Sample weights multiply each point's contribution, as counts:
        probability weights, once rescaled, are taken as counts too (there is no sandwich
        estimator). A dataset whose fit failed, or whose information matrix is singular or
        not positive definite, gets NaN, reported in one :class:`DegenerateFitWarning`.
    warn : bool, default True
        Summarise fits that collapsed, became non-finite or did not converge in one
        :class:`DegenerateFitWarning` or :class:`ConvergenceWarning` per kind. With False
        only ``FitResult.status`` tells, for callers that summarise several calls
        themselves (chunks of one batch, say) without touching the process's warning
        filters, which threads share.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        The precision of the E-step, the pass over the points that is nearly all of EM's
        work. With ``np.float32`` each point's standardised value, its log-densities,
        their maximum, the ``exp`` and the responsibilities are float32 (twice as many
        points per vector instruction: 1.9x float64's speed on 1,000-point datasets with
        K=2, 2.0-2.2x with K=3 to 8, in the README's benchmarks); sums over blocks of at
        most 256 points are float32 and are added into float64 totals, and the
        parameters, the log-likelihood, the M-step, SQUAREM and the stopping rules stay
        float64. Against float64 from the same starts, parameters differ by about 3e-7
        relative and log-likelihoods by 2e-8 after 100 iterations, and fits run to
        convergence differ by the float32 E-step's error of the maximum, about 1e-8
        relative in the parameters (more for a weakly determined one) and 4e-9 in the
        log-likelihood. Where float64 would resolve differences smaller than that, float32
        does not: a ``tol`` near 1e-9 per point may take more iterations or not be met,
        the log-likelihood may fall by about 1e-8 relative in a step that cannot lower it
        in exact arithmetic, and a component narrower than about 1e-5 of the dataset's
        spread gets its variance only to 1e-4 relative or worse (each point is rounded
        to 6e-8 of the spread). A responsibility below ``exp(-86) = 4.5e-38`` is exactly 0
        (float64: ``exp(-708)``). Results are the same for any number of threads and on
        every x86-64 CPU, as with float64. Starting values, emEM's short runs included,
        are computed in float64 either way.

    Returns
    -------
    FitResult
    """
    n_components = _validate.check_int("n_components", n_components, 1)
    auto = isinstance(n_init, str) and n_init == "auto"
    if not auto:
        n_init = _validate.check_int(
            "n_init", n_init, 1, _validate.MAX_ITER_LIMIT, also="or 'auto'"
        )
    pool = search.checked_pool(init, init_params, auto)
    max_init = _validate.check_int("max_init", max_init, 1, _validate.MAX_ITER_LIMIT)
    unseen_tol = _validate.check_level(unseen_tol, "unseen_tol")
    max_iter = _validate.check_int("max_iter", max_iter, 1, _validate.MAX_ITER_LIMIT)
    algorithm = _validate.check_choice("algorithm", algorithm, ALGORITHMS)
    stop = _validate.check_choice("stop", stop, STOPPING_RULES)
    dtype = _validate.check_dtype(dtype)
    if tol is None:
        tol = (
            PARAMETER_TOL_FLOAT32
            if stop == "parameter" and dtype == np.float32
            else DEFAULT_TOLS[stop]
        )
    else:
        tol = _validate.check_non_negative("tol", tol)
    reg_variance = _validate.check_non_negative("reg_variance", reg_variance)
    dataset_offset = _validate.check_int("dataset_offset", dataset_offset, 0, _validate.MAX_INDEX)
    seed = _validate.Seed(_validate.check_random_state(random_state))
    equal_variance = _validate.check_bool("equal_variance", equal_variance)
    equal_weights = _validate.check_bool("equal_weights", equal_weights)
    trace_length = _validate.check_trace(trace, max_iter)
    return_restarts = _validate.check_bool("return_restarts", return_restarts)
    skip_degenerate = _validate.check_bool("skip_degenerate", skip_degenerate)
    spurious = check_rule(spurious)
    sort_components = _validate.check_bool("sort_components", sort_components)
    warn = _validate.check_bool("warn", warn)
    sample_weight_type = _validate.check_choice(
        "sample_weight_type", sample_weight_type, _validate.SAMPLE_WEIGHT_TYPES
    )
    se = None if se is None else _validate.check_choice("se", se, SE_METHODS)

    batch = _validate.prepared_batch(
        data,
        sample_weight,
        n_components,
        first=dataset_offset,
        sample_weight_type=sample_weight_type,
    )
    if warn and sample_weight_type == "frequency":
        _warn_few_counts(_validate.few_counts(batch, dataset_offset), stacklevel=3)
    if not auto:
        pool, n_init = search.fixed_pool(pool, n_init)
    n_given = _given_restarts(n_init, (weights_init, means_init, variances_init), batch)
    per_dataset = max_init + n_given if auto else n_init
    _check_fit_memory(
        batch.n_datasets
        * sum(search.slots(s, o, c) for s, o, c in pool)
        * per_dataset
        // max(sum(c for _, _, c in pool), 1),
        n_components,
        trace_length,
    )
    given = _validate.check_starting_values(
        weights_init,
        means_init,
        variances_init,
        n_datasets=batch.n_datasets,
        n_init=n_given if auto else n_init,
        n_components=n_components,
        single=batch.single,
        equal_variance=equal_variance,
    )
    model = _validate.check_model(
        n_components,
        reg_variance,
        equal_variance,
        equal_weights,
        given,
        fix_weights=fix_weights,
        fix_means=fix_means,
        fix_variances=fix_variances,
    )
    if not auto:
        _warn_identical_restarts(n_init, init, given)

    run_options = dict(
        max_iter=max_iter,
        tol=tol,
        algorithm=algorithm,
        stop=stop,
        trace_length=trace_length,
        dtype=dtype,
    )
    if auto:
        rounds = search.run_rounds(
            pool,
            batch,
            model,
            seed,
            given,
            n_given,
            run_options,
            max_init=max_init,
            unseen_tol=unseen_tol,
            skip_degenerate=skip_degenerate,
            spurious_rule=spurious,
            keep_starts=return_restarts,
        )
    else:
        weights, means, variances, init_n_iter = search.pooled_values(
            pool, batch, model, seed, given
        )
        starts = (weights.copy(), means.copy(), variances.copy()) if return_restarts else None
        run = _em.run(batch, model, weights, means, variances, **run_options)
        n_restarts = np.full(batch.n_datasets, n_init, dtype=np.int64)
        rounds = search.Rounds(weights, means, variances, run, init_n_iter, n_restarts, starts)
    result = best_of_restarts(
        batch,
        model,
        given,
        rounds,
        Stopping(tol, max_iter, algorithm, stop),
        Choice(
            skip_degenerate=skip_degenerate,
            sort_components=sort_components,
            spurious_rule=spurious,
            se=se,
            unseen_tol=unseen_tol,
            auto_search=auto,
        ),
        starts_moved=any(s.kernel is None for s, _, _ in pool),
    )
    if warn:
        result.warn(stacklevel=2)
    return squeeze(result) if batch.single else result


def _given_restarts(n_init, given, batch) -> int:
    """Restarts the given starting values make: with ``n_init="auto"``, those of the
    largest given array (shape (n_datasets, G, K), or (G, K) for one dataset), run in the
    first round besides the strategies' (0 when none is given); else ``n_init``."""
    if n_init != "auto":
        return n_init
    counts = [0]
    for value in given:
        if value is not None:
            shape = np.shape(value)
            counts.append(shape[-2] if len(shape) == 3 or (len(shape) == 2 and batch.single) else 1)
    return max(counts)


def warn_few_counts(data, sample_weight, n_components, stacklevel):
    """The warning of :func:`fit` about frequency weights that look like probabilities,
    for callers that fit with ``warn=False`` (data already checked by such a fit)."""
    if sample_weight is not None:
        batch = _validate.prepared_batch(data, sample_weight, n_components)
        _warn_few_counts(_validate.few_counts(batch), stacklevel + 1)


def _warn_few_counts(message, stacklevel):
    if message is not None:
        warnings.warn(message[0].upper() + message[1:], UserWarning, stacklevel=stacklevel)


def _check_fit_memory(n_fits, n_components, trace_length):
    """The fits' arrays (:func:`fastem.checks.fit_bytes` each) must fit in memory."""
    per_fit = _validate.fit_bytes(n_components, trace_length)
    fix = "Fit fewer datasets or restarts per call (dataset_offset keeps the seeding of chunks)" + (
        ", or keep a shorter trace (trace=L or a smaller max_iter)." if trace_length else "."
    )
    _validate.check_memory(n_fits * per_fit, f"{n_fits} fits", fix)


def _warn_identical_restarts(n_init, init, given):
    """Restarts that cannot differ are wasted work; say so once."""
    if n_init == 1 or not isinstance(init, (str, type(None))):
        return
    if given.means is not None and all(value is None or value.strides[1] == 0 for value in given):
        reason = "means_init (with the other starting values) is the same for every restart"
    elif init == "quantile" and all(value is None for value in given):
        reason = "init='quantile' is deterministic"
    else:
        return
    warnings.warn(
        f"n_init={n_init} restarts all start from the same values ({reason}), so they give "
        "identical fits; use n_init=1, or give starting values of shape (n_datasets, n_init, K).",
        UserWarning,
        stacklevel=3,
    )

"""The options of :func:`fastem.fit` about the EM runs and their result: the second part of
the table (:data:`fastem.options.FIT_OPTIONS`)."""

from __future__ import annotations

import numpy as np

from .. import checks as _validate
from ..spurious import SpuriousRule, check_rule
from .option import (
    ALGORITHMS,
    SE_METHODS,
    STOPPING_RULES,
    Option,
    boolean,
    integer,
    one_of,
    parse_spurious,
    se_method,
    seed,
    tolerance,
)

DEFAULT_MAX_ITER = 1000
DEFAULT_TOLS = {"loglik": 1e-6, "relative": 1e-5, "aitken": 1e-5, "parameter": 1e-9}
"""Each stopping rule's default ``tol``: fastem's own; mclust's ``emControl`` (1e-5);
MoEClust's (1e-5, with ``stopping = "aitken"``); and for the parameter rule, fit's default,
1e-9, where turboEM's ``control.run`` has 1e-7: SQUAREM takes a few steps more, and every
parameter ends within 1e-6 relative of the maximum on the real datasets of ``tests/data``
(at 1e-7, 15 of the panel's 126 candidates were not)."""

OPTIONS = (
    Option(
        "max_iter",
        DEFAULT_MAX_ITER,
        "int, default 1000",
        """
        Most EM iterations per fit (with SQUAREM, accepted steps: up to three passes each).
        """,
        check=integer("max_iter", 1),
        flag="--max-iter",
        help=f"most EM iterations (SQUAREM: accepted steps) per fit (default: {DEFAULT_MAX_ITER})",
        parse=int,
        per_batch="max_iter",
        design=True,
        toolkit=("bootstrap", "bootstrap_lrt"),
    ),
    Option(
        "tol",
        None,
        "float, optional",
        """
        The stopping rule's tolerance; by default the rule's own (``DEFAULT_TOLS``: 1e-9
        for "parameter", 1e-7 with ``dtype=np.float32``; 1e-6 for "loglik"). ``tol=0``
        runs exactly ``max_iter`` iterations (accepted steps).
        """,
        check=tolerance,
        flag="--tol",
        help=(
            f"the stopping rule's tolerance (default: the rule's own: {DEFAULT_TOLS['loglik']:g} "
            f"for loglik, 1e-5 for relative and aitken, 1e-9 for parameter)"
        ),
        parse=float,
        per_batch="tol",
        design=True,
        toolkit=("bootstrap", "bootstrap_lrt"),
    ),
    Option(
        "algorithm",
        "squarem",
        "{" + ", ".join(f'"{name}"' for name in ALGORITHMS) + '}, default "squarem"',
        """
        SQUAREM, which reaches the same maxima as EM in a fraction of the passes, plain
        EM (what a study of EM itself compares, and scikit-learn's estimator runs), or
        another accelerator of EM's map.
        SQUAREM (Varadhan & Roland 2008, scheme SqS3, as R's SQUAREM
        ``method = 3``): two EM maps, an extrapolation in coordinates where every point is
        a valid mixture (log weights, means, log variances), and a stabilising EM map, with
        a fall back to the plain EM step whenever the extrapolated point has a lower
        log-likelihood than the step's start (R's SQUAREM tests the stabilised point and
        tolerates a decrease of 1; here no accepted step lowers it). ``"sqs1"`` and
        ``"sqs2"`` are the same steps with SQUAREM's other step lengths (R's ``method = 1,
        2``); ``"qn"`` is the quasi-Newton acceleration of Zhou, Alexander & Lange (2011)
        with two secants (R turboEM's ``qn``), in the same coordinates, with the same
        stabilising map and fall back. ``"daarem"`` (Henderson & Varadhan 2019, R's daarem
        with its defaults): damped Anderson acceleration with restarts, one pass per step,
        in the same coordinates and as monotone (a proposal below the current
        log-likelihood is refused, where R's daarem tolerates a decrease of 0.01).
        Constraints and fixed parameters hold at every step.
        ``n_iter`` counts accepted steps; ``n_fpeval`` counts EM maps (passes over the
        data that produce parameters) for all.
        """,
        check=one_of("algorithm", ALGORITHMS),
        flag="--algorithm",
        choices=ALGORITHMS,
        help="the algorithm: SQUAREM's accelerated EM (default), plain EM or another accelerator",
        per_batch="algorithm",
        defaults={"design": ("em",), "study": ("em",)},
        toolkit=("bootstrap", "bootstrap_lrt"),
        study_help="algorithms to compare: " + ", ".join(ALGORITHMS),
        compared=True,
        in_messages=False,
    ),
    Option(
        "stop",
        "parameter",
        '{"parameter", "loglik", "relative", "aitken"}, default "parameter"',
        """
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
        """,
        check=one_of("stop", STOPPING_RULES),
        flag="--stop",
        choices=STOPPING_RULES,
        help=(
            "stopping rule: change of the mean log-likelihood per point (loglik), relative change"
            " (relative, mclust's), Aitken's limit (aitken), change of the parameters (parameter,"
            " turboEM's); --tol defaults to the rule's own: 1e-6, 1e-5, 1e-5, 1e-9"
        ),
        per_batch="stop",
        defaults={
            "design": ("loglik",),
            "study": ("loglik",),
            "bootstrap": "loglik",
            "bootstrap_lrt": "loglik",
        },
        toolkit=("bootstrap", "bootstrap_lrt"),
        study_help=(
            "stopping rules to compare: loglik, relative, aitken, parameter (each at its own "
            "default tol unless --tol is given)"
        ),
        compared=True,
        in_messages=False,
    ),
    Option(
        "reg_variance",
        0.0,
        "float, default 0",
        """
        Added to every variance at each M-step, as a fraction of the dataset's variance
        (scikit-learn's ``reg_covar``, made scale-free). The default 0 is plain EM, as in
        mixtools and mclust: any positive value biases variances, and the more so the
        farther apart the components are (it is relative to the whole dataset's variance).
        A variance never goes below 1e-15 of the dataset's (a floor, not an addition), so
        a collapsing component keeps a finite density and is flagged.
        """,
        check=lambda value: _validate.check_non_negative("reg_variance", value),
        flag="--reg-variance",
        help="added to each variance, relative to the dataset's (default: 0)",
        parse=float,
        design=True,
        sklearn="reg_covar",
    ),
    Option(
        "random_state",
        None,
        "None, int or numpy.random.Generator",
        """
        Seed of the random starts. Restart ``r`` of a dataset draws from a stream keyed by
        ``random_state``, a hash of the dataset's values and weights, and ``r``: the same
        data get the same fit at any place of any batch, file or chunking, with any number
        of threads.
        """,
        check=seed,
        flag="--seed",
        defaults={"select": 0, "study": 0, "bootstrap": 0, "bootstrap_lrt": 0},
        toolkit=("bootstrap", "bootstrap_lrt"),
    ),
    Option(
        "trace",
        False,
        "bool or int, default False",
        """
        Keep the log-likelihood after every iteration of every fit (``8 * (max_iter + 1)``
        bytes per fit); an integer ``L`` keeps only the first ``L`` entries (at most
        ``max_iter + 1``), the rest of ``trace`` is then cut off.
        """,
    ),
    Option(
        "return_restarts",
        False,
        "bool, default False",
        """
        Keep every restart's starting values and final parameters.
        """,
        check=boolean("return_restarts"),
    ),
    Option(
        "skip_degenerate",
        False,
        "bool, default False",
        """
        Choose each dataset's best restart among the regular ones (not
        ``Status.SPURIOUS``, ``VARIANCE_FLOORED`` or ``NON_FINITE``) when there is one. By
        default the highest log-likelihood wins, which on small datasets is often a
        spurious maximum: a component on a few close points.
        """,
        check=boolean("skip_degenerate"),
        flag="--skip-degenerate",
        help=(
            "choose each dataset's best restart among those not spurious, collapsed or failed, "
            "when there is one"
        ),
        parse=bool,
        per_batch="skip_degenerate",
        design=True,
        set_by=("select",),
        in_messages=False,
    ),
    Option(
        "spurious",
        SpuriousRule(),
        "SpuriousRule, default SpuriousRule()",
        """
        What counts as a spurious maximum (``Status.SPURIOUS``): a component on fewer
        than 5 expected points with a variance below 0.01 of the largest, by default.
        """,
        check=check_rule,
        flag="--spurious",
        help=(
            "the rule for spurious maxima: a component on fewer than MIN_POINTS expected points "
            "with a variance below MIN_VARIANCE_RATIO of the largest (default: 5 0.01; 0 0 flags "
            "only collapsed components)"
        ),
        n_values=2,
        parse=parse_spurious,
        per_batch="spurious_rule",
        design=True,
        toolkit=("bootstrap", "bootstrap_lrt"),
        in_messages=False,
    ),
    Option(
        "dataset_offset",
        0,
        "int, default 0",
        """
        Global index of the first dataset, for messages: a chunk of a larger batch names
        its datasets as the whole batch would. (Seeding does not depend on it: fitting
        rows ``a:b`` of a batch gives exactly rows ``a:b`` of fitting the whole batch.)
        """,
        check=integer("dataset_offset", 0, _validate.MAX_INDEX),
        set_by=("study", "dask"),
    ),
    Option(
        "sort_components",
        True,
        "bool, default True",
        """
        Return each fit's components in order of increasing mean, so that the
        components of different datasets and restarts line up. With False they keep the
        order of their starting values (as scikit-learn's do), which matters when
        ``means_init`` says which component is which.
        """,
        check=boolean("sort_components"),
    ),
    Option(
        "se",
        None,
        '{None, "score", "louis"}, default None',
        """
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
        """,
        check=se_method,
        flag="--se",
        help=(
            "standard errors of the estimates (columns weight_se_k, mean_se_k, variance_se_k; in "
            "a study, each parameter's coverage of 95%% intervals and the relative error of the "
            "model SE), from the outer product of the scores (score) or the observed "
            "information by Louis's method (louis), in weights less one, means and variances; "
            "NaN (empty) for a dataset whose information is singular (default: none)"
        ),
        choices=SE_METHODS,
        parse=str,
        design=True,
        in_messages=False,
    ),
    Option(
        "warn",
        True,
        "bool, default True",
        """
        Summarise fits that collapsed, became non-finite or did not converge in one
        :class:`DegenerateFitWarning` or :class:`ConvergenceWarning` per kind. With False
        only ``FitResult.status`` tells, for callers that summarise several calls
        themselves (chunks of one batch, say) without touching the process's warning
        filters, which threads share.
        """,
        check=boolean("warn"),
        set_by=("study", "select", "dask"),
    ),
    Option(
        "dtype",
        np.float64,
        "{numpy.float64, numpy.float32}, default numpy.float64",
        """
        The precision of the E-step, the pass over the points that is nearly all of EM's
        work. With ``np.float32`` each point's standardised value, its log-densities,
        their maximum, the ``exp`` and the responsibilities are float32 (twice as many
        points per vector instruction, the speed-up on the benchmarks page); sums over
        blocks of at most 256 points are float32 and are added into float64 totals, and the
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

        """,
        check=_validate.check_dtype,
    ),
)
"""In the order of :func:`fastem.fit`'s signature."""

"""The "rndem" start (Maitra 2009): the best of many random starts, by log-likelihood."""

import numba
import numpy as np
import pytest

import fastem
from fastem import checks as _validate
from fastem import reference
from fastem.engine import rndem
from fastem.engine import rng as _rng
from fastem.engine.seeding import cluster_parameters, random_seeds

pytestmark = pytest.mark.plain_python


def _mixture(seed=11, n=400):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(-2.0, 1.0, n // 2), rng.normal(3.0, 0.5, n - n // 2)])


def test_one_candidate_is_random_from_datas_start():
    x = _mixture()
    one = fastem.init.rndem(x, 3, n_candidates=1, n_init=4, random_state=3)
    plain = fastem.init.random_from_data(x, 3, n_init=4, random_state=3)
    for a, b in zip(one, plain):
        np.testing.assert_array_equal(a, b)


def test_the_start_is_the_candidate_of_highest_log_likelihood():
    # The candidates drawn again from their streams, their log-likelihoods by the NumPy
    # reference: the kept one is the first of the highest.
    x = _mixture()
    k, n_candidates, random_state = 3, 25, 8
    batch = _validate.prepared_batch(x, None, k)
    center, scale = batch.center[0], batch.scale[0]
    start = fastem.init.rndem(x, k, n_candidates=n_candidates, n_init=3, random_state=random_state)
    for restart in range(3):
        key = np.uint64(_rng.stream_key(random_state, _rng.INIT, batch.keys[0], restart))
        candidates, log_likelihoods = [], []
        for c in range(n_candidates):
            seeds, w, m, v = (np.empty(k) for _ in range(4))
            stream = np.uint64(rndem.candidate_key(key, c))  # numba returns an int
            random_seeds(x, np.empty(0), center, 1 / scale, stream, seeds)
            cluster_parameters(x, np.empty(0), center, 1 / scale, seeds, w, m, v)
            order = np.argsort(m)
            candidates.append((w[order], center + scale * m[order], scale**2 * v[order]))
            log_likelihoods.append(reference.log_likelihood(x, *candidates[-1]))
        best = int(np.argmax(log_likelihoods))
        assert len({round(ll, 6) for ll in log_likelihoods}) > 1  # the candidates differ
        np.testing.assert_allclose(start.weights[restart], candidates[best][0], rtol=1e-12)
        np.testing.assert_allclose(start.means[restart], candidates[best][1], rtol=1e-12)
        np.testing.assert_allclose(start.variances[restart], candidates[best][2], rtol=1e-12)


def test_more_candidates_never_start_lower():
    x = _mixture(seed=5)
    previous = None
    # Candidate c of a restart is the same whatever their number: the best of more is
    # at least as good.
    for n_candidates in (1, 6, 30):
        start = fastem.init.rndem(x, 4, n_candidates=n_candidates, n_init=3, random_state=1)
        ll = np.array([reference.log_likelihood(x, *(a[r] for a in start[:3])) for r in range(3)])
        if previous is not None:
            assert (ll >= previous - 1e-9 * abs(previous)).all()
        previous = ll


def test_starts_do_not_depend_on_threads_or_the_other_datasets():
    rng = np.random.default_rng(2)
    data = [rng.normal(size=n) + 5 * (rng.random(n) < 0.3) for n in (30, 500, 80)]
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        alone = [fastem.init.rndem(x, 2, n_init=3, random_state=4, n_candidates=20) for x in data]
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        together = fastem.init.rndem(data, 2, n_init=3, random_state=4, n_candidates=20)
    finally:
        numba.set_num_threads(threads)
    for d, one in enumerate(alone):
        for a, b in zip(one, together):
            np.testing.assert_array_equal(a, b[d])


@pytest.mark.parametrize("count", [0, -3, 2.5, "many", True])
def test_bad_numbers_of_candidates_are_refused(count):
    with pytest.raises((ValueError, TypeError), match=r"init_params\['n_candidates'\]"):
        fastem.fit(_mixture(), 2, init="rndem", init_params={"n_candidates": count})

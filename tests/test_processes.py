"""fastem in other processes and threads: fork, spawn and concurrent calls after a fit."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import multiprocessing
    import sys
    import threading

    import numpy as np

    import fastem

    DATA = fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 200, 50, 0)[0]


    def log_likelihood(seed):
        return float(fastem.fit(DATA, 2, n_init=3, random_state=seed).log_likelihood.sum())


    if __name__ == "__main__":
        expected = [log_likelihood(seed) for seed in range(4)]  # the parent has run fits
        method = sys.argv[1]
        if method == "threads":
            results = [None] * 4

            def work(seed):
                results[seed] = log_likelihood(seed)

            threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        else:
            with multiprocessing.get_context(method).Pool(2) as pool:
                results = pool.map(log_likelihood, range(4))
        assert results == expected, (results, expected)
        print("same results")
""")


def run_script(tmp_path, method):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    return subprocess.run(
        [sys.executable, str(script), method], capture_output=True, text=True, timeout=300
    )


def test_a_forked_pool_after_a_fit_gives_the_same_fits(tmp_path):
    # With GNU OpenMP as numba's threading layer, the children hang or abort here.
    completed = run_script(tmp_path, "fork")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "same results"


def test_a_spawned_pool_gives_the_same_fits(tmp_path):
    completed = run_script(tmp_path, "spawn")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "same results"


def test_threads_fitting_at_once_give_the_same_fits(tmp_path):
    completed = run_script(tmp_path, "threads")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "same results"


def test_the_threading_layer_is_tbb_where_tbb_is_installed():
    from fastem.engine import jit as _jit

    assert _jit.USES_TBB
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import numba, fastem; fastem.fit([0., 1, 5, 6], 2); print(numba.threading_layer())",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.stdout.strip() == "tbb", completed.stderr


def test_a_kernel_run_interruptibly_keeps_the_callers_thread_count():
    import threading

    import numba

    from fastem.engine import interrupt as _interrupt

    seen = []

    def probe(interrupted):
        seen.append((threading.current_thread().name, numba.get_num_threads()))

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        _interrupt.run(probe)
    finally:
        numba.set_num_threads(before)
    assert seen == [("fastem-kernel", 1)]


def test_import_fastem_loads_neither_numba_nor_scipy_nor_the_optional_packages():
    # Names come with their first use: numba with the first kernel's (its import is slow),
    # SciPy's optimize and special modules with component matching and the reference.
    script = (
        "import sys, fastem; print(sorted(m for m in ('numba', 'scipy', 'sklearn', "
        "'dask', 'matplotlib') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert completed.stdout.strip() == "[]"
    script = (
        "import sys, fastem; fastem.fit; print(sorted(m for m in ('numba', "
        "'scipy.optimize', 'scipy.special', 'sklearn', 'dask', 'matplotlib') "
        "if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert completed.stdout.strip() == "['numba']"


def test_public_names_and_import_paths_survive_the_layer_folders():
    # The functions live in toolkit modules of other names, so no import hides them; the
    # public modules keep the import paths users have.
    script = (
        "import fastem.cli, fastem.mcse, fastem.plots, fastem; "
        "from fastem.mcse import plan_replications; "
        "print(callable(fastem.study), callable(fastem.simulate), "
        "fastem.bootstrap.__module__, fastem.select.__name__, fastem.mcse.__name__, "
        "fastem.plots.__name__, plan_replications is fastem.plan_replications)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert completed.stdout.split() == [
        "True",
        "True",
        "fastem.toolkit.bootstrap",
        "select",
        "fastem.toolkit.mcse",
        "fastem.toolkit.plots",
        "True",
    ]

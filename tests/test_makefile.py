"""``make test`` leaves out the tests marked slow, and what CI runs includes them.

The Makefile is read as make reads it: ``make -n`` prints the commands a target would run
(recursive ``$(MAKE)`` calls included) without running them.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def pytest_runs(*arguments):
    """The marker expression (``-m``; None without one) of each pytest run of a target."""
    # Read as from a shell: not with the variables of a make that runs these tests (CI's
    # `make test SLOW=1` passes SLOW to every make below it through MAKEFLAGS).
    inherited = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "SLOW", "DOCS")
    completed = subprocess.run(
        ["make", "-n", "--no-print-directory", *arguments, "VENV=venv-not-made"],
        cwd=ROOT,
        env={name: value for name, value in os.environ.items() if name not in inherited},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    runs = []
    for line in completed.stdout.replace("\\\n", " ").splitlines():
        _, pytest, options = line.partition(" -m pytest")
        if pytest:
            marker = re.search(r'\s-m "([^"]*)"', options)
            runs.append(marker and marker.group(1))
    return runs


def test_make_test_leaves_out_the_slow_tests_in_each_of_its_three_passes():
    runs = pytest_runs("test", "DOCS=")
    assert runs == [
        "not slow",
        "plain_python and not slow and not slow_as_python",
        "(plain_python or exact) and not slow",
    ]


@pytest.mark.parametrize("target", [["test-all"], ["test", "SLOW=1"], ["test-pythons"]])
def test_the_full_runs_include_the_slow_tests(target):
    runs = pytest_runs(*target, "DOCS=")
    passes = [None, "plain_python", "(plain_python or exact)"]
    assert runs == passes * (2 if target == ["test-pythons"] else 1)


def test_ci_runs_the_suite_with_its_slow_tests():
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))
    ]
    assert commands == ["make test-pythons"]

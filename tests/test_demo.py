"""The main job (``python -m fastem``) runs end to end and reports sane numbers."""

import subprocess
import sys

from fastem import demo


def test_demo_summary_recovers_the_seed_mixture():
    text = demo.run(n_datasets=300, n_samples=200, n_init=3, random_state=1)
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if "[" in line[:12]}
    for name, truth in (("mean[1]", -2.5), ("mean[2]", 3.5), ("weight[1]", 0.4)):
        true, mean = float(rows[name][0]), float(rows[name][1])
        assert true == truth
        # 200 points per dataset: the average estimate is within a few standard errors.
        assert abs(mean - truth) < 0.1, (name, mean)
    assert "converged:" in text and "million points x components x iterations/s" in text


def test_module_entry_point_runs():
    completed = subprocess.run(
        [sys.executable, "-m", "fastem", "--n-datasets", "50", "--n-init", "2"],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "fastem demo: 50 datasets x 40 points" in completed.stdout

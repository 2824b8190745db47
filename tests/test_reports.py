"""What a statistician reads: short reprs, summary(), and no dataset axis for one dataset."""

from pathlib import Path

import numpy as np

import fastem

WAITING = np.loadtxt(Path(__file__).parent / "data" / "faithful.csv", skiprows=1, delimiter=",")[
    :, 1
]


def test_a_large_batch_has_a_one_line_repr_and_a_summary_of_its_outcomes():
    data, _ = fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 40, 2000, random_state=0)
    result = fastem.fit(data, 2, n_init=3, random_state=0, warn=False)
    text = repr(result)
    assert "\n" not in text and len(text) < 200 and "2000 datasets" in text
    summary = result.summary()
    counts = np.bincount(result.status, minlength=len(fastem.Status))
    for status in fastem.Status:
        if counts[status]:
            assert f"{counts[status]} {status.name.lower()}" in summary
    assert len(summary.splitlines()) < 15


def test_one_fit_summary_reports_the_model_criteria_and_parameters():
    result = fastem.fit(WAITING, 2, n_init=4, random_state=0)
    text = repr(result)
    assert "\n" not in text and "2 components, unequal variances" in text
    summary = result.summary()
    assert "n=272" not in summary and " 272 " in summary  # n in the criteria table
    assert f"{result.bic():.6g}" in summary and "smaller is better" in summary
    assert "best of 4 restart(s)" in summary
    for mean in result.means:
        assert f"{mean:.6g}" in summary
    equal = fastem.fit(WAITING, 2, equal_variance=True, random_state=0)
    assert "equal variance" in repr(equal) and "unequal" not in repr(equal)


def test_study_reprs_are_short():
    result = fastem.study([0.5, 0.5], [0.0, 4.0], [1.0, 1.0], n_samples=30, replications=40)
    assert repr(result).count("\n") == 0 and repr(result.cells[0]).count("\n") == 0
    assert "40 datasets" in repr(result.cells[0])


def test_restart_summary_of_one_dataset_has_no_dataset_axis():
    one = fastem.restart_summary(fastem.fit(WAITING, 2, n_init=4, random_state=0))
    batch = fastem.restart_summary(fastem.fit([WAITING], 2, n_init=4, random_state=0))
    assert isinstance(one.best_log_likelihood, float) and isinstance(one.n_local_maxima, int)
    assert one.best_log_likelihood == batch.best_log_likelihood[0]
    assert one.share_at_best == batch.share_at_best[0]

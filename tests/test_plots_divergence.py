"""The figures of chapter 3 (dropout_taylor.plots_divergence) build without warnings, fit the
book's column width and draw what their captions promise."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dropout_taylor import plots_divergence as P  # noqa: E402
from dropout_taylor import series as S  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _width_ok(fig):
    assert fig.get_size_inches()[0] <= P.WIDTH


def test_complex_plane_marks_atoms_inside_and_outside():
    fig = P.plot_complex_plane_figure(2.0, np.array([-2.0, 10.0, -10.0, 2.0]), np.full(4, 0.25))
    _width_ok(fig)
    ax = fig.axes[0]
    offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets())]
    xs = sorted(float(x) for o in offsets for x in o[:, 0])
    assert xs == [-8.0, 0.0, 4.0, 12.0]


def test_root_ratio_and_partial_sums():
    coefficients = {z0: S.taylor_coefficients(z0, 40) for z0 in (0.0, 3.0)}
    fig = P.plot_root_ratio(coefficients, z0_ratio=3.0)
    _width_ok(fig)
    assert len(fig.axes) == 2 and fig.axes[1].get_yscale() == "log"
    with pytest.raises(ValueError, match="z0_ratio"):
        P.plot_root_ratio(coefficients, z0_ratio=1.0)
    fig = P.plot_partial_sum_errors({0.5: np.array([1.0, 1e-3, 1e-30])})
    line = fig.axes[0].lines[0]
    assert np.isnan(line.get_ydata()[2])  # below the floor: not drawn


def test_expected_series_and_worked_examples():
    ex1 = S.expected_series(2.0, *S.dropout_atoms_mp([6.0, -4.0], 0.5), n_max=20)
    ex2 = S.expected_series(10.0, *S.dropout_atoms_mp([10.0], 0.5), n_max=20)
    fig = P.plot_expected_series_errors({"outside": ex1, "inside": ex2})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("outside") and "2.69" in labels[0]
    fig = P.plot_worked_examples(ex1, ex2, 0.35, 0.0023)
    _width_ok(fig)
    assert len(fig.axes) == 2


def test_support_variance_and_gaussian_truncation():
    deltas = np.linspace(0.05, 0.9, 5)
    curves = {(2.0, -1.0): S.support_curve([2.0, -1.0], deltas)}
    fig = P.plot_support_variance(deltas, curves)
    _width_ok(fig)
    fractions = np.array([0.3, 0.5, 1.0])
    errors = {z0: S.gaussian_truncation_table(z0, fractions, 6) for z0 in (0.0, 2.0)}
    fig = P.plot_gaussian_truncation(fractions, errors, z_detail=2.0, shown=(0.3, 1.0))
    _width_ok(fig)
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="z_detail"):
        P.plot_gaussian_truncation(fractions, errors, z_detail=1.0)


def test_explorer_figure():
    fig, es = P.plot_dropout_series(np.array([2.5, -1.5]), 0.5, n_max=20)
    _width_ok(fig)
    assert es.reach > es.rho
    assert "diverges" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="delta"):
        P.plot_dropout_series(np.array([1.0]), 1.5)

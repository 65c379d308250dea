"""The figures of chapter 2 (dropout_taylor.plots_quadratic) build without warnings and show
what their captions promise."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dropout_taylor import plots_quadratic as pq  # noqa: E402
from dropout_taylor import quadratic_error as qe  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_comparison_shows_the_three_penalties():
    fig = pq.plot_comparison(0.5, 1.0, [1.0, -0.5, 2.0])
    left, right = fig.axes
    assert len(right.patches) == 3
    assert right.get_title().startswith(r"$\delta=0.50$")


def test_plot_small_rate_draws_three_curves_per_contribution():
    fig = pq.plot_small_rate(np.logspace(-3, -0.5, 5))
    assert len(fig.axes[0].lines) >= 9
    limits = [line for line in fig.axes[0].lines if line.get_linestyle() == ":"]
    assert np.isclose(limits[0].get_ydata()[0], float(qe.small_rate_ratio(1.0, np.full(4, 0.25))))


def test_plot_fast_convergence_and_maps():
    d_values = np.array([4, 16])
    errors = {0.2: (np.array([1e-3, 5e-4]), np.array([2e-3, 3e-3]))}
    fig = pq.plot_fast_convergence(d_values, errors, {0.2: np.array([1e-3, 5e-4])})
    assert len(fig.axes) == 1 and fig.axes[0].get_xscale() == "log"
    fig = pq.plot_relative_error_maps(np.linspace(0.5, 4, 5), np.array([0.2, 0.5]), np.array([0.5, 1.0]), d=2)
    assert len(fig.axes) == 3  # two maps and the colour bar


def test_bad_input():
    with pytest.raises(ValueError):
        pq.plot_comparison(1.0, 1.0, [1.0])
    with pytest.raises(ValueError):
        pq.plot_small_rate(np.array([[0.1]]))

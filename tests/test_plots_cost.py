"""The figures of chapter 5 (dropout_taylor.plots_cost) build without warnings and draw what
their captions promise."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dropout_taylor import plots_cost as pc  # noqa: E402
from dropout_taylor import training  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _results():
    rec = training.FitRecord
    return {
        (seed, delta): {
            m: rec(m, np.arange(4.0), 1.0, 2.0 + seed, 2.0, 0.1, 1.0, 3.0, 0.4, 0.9)
            for m in training.METHODS
        }
        for seed in (0, 1)
        for delta in (0.2, 0.5)
    }


def test_bound_curve_and_partial_sums():
    scales = np.logspace(-2, 0, 5)
    curve = {
        k: np.linspace(1e-3, 1, 5) for k in ("error", "lagrange", "second_order", "R")
    }
    fig = pc.plot_bound_curve(scales, curve)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log" and len(ax.lines) == 5
    fig = pc.plot_partial_sums(np.linspace(0.1, 1.0, 11), 1.0, 0.1)
    marks = fig.axes[0].lines[0]
    np.testing.assert_array_equal(marks.get_xdata(), [2, 4, 6, 8, 10])


def test_ratio_against_score_and_confident_examples():
    z = np.linspace(0.1, 5, 7)
    fig = pc.plot_ratio_against_score(z, {0.1: z + 1, 0.5: z + 2}, {0.1: z, 0.5: z})
    assert len(fig.axes[0].lines) == 5  # two solid, two dashed, the line at 1
    fig = pc.plot_confident_examples(z, z + 1, z > 2)
    flips = fig.axes[0].lines[1]
    np.testing.assert_array_equal(flips.get_xdata(), z[z > 2])
    with pytest.raises(ValueError, match="same length"):
        pc.plot_confident_examples(z, z[:3], z > 2)


def test_comparison_and_coefficients():
    fig = pc.plot_comparison({"a": _results(), "b": _results()})
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title(loc="left") == "a"
    with pytest.raises(ValueError, match="all_results"):
        pc.plot_comparison({})
    fig, ax = plt.subplots()
    pc.plot_coefficients(_results()[0, 0.2], ax, ["x", "y", "z"])
    assert len(ax.patches) == 9
    with pytest.raises(ValueError, match="feature_names"):
        pc.plot_coefficients(_results()[0, 0.2], ax, ["x"])

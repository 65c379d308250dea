"""The figures of chapter 5 (``05_cost``: what the quadratic approximation costs).

* :func:`plot_bound_curve`: ``|R - R^q|`` and its two bounds along a ray (``fig-bound``);
* :func:`plot_partial_sums`: partial sums of the expected series (``fig-series``);
* :func:`plot_ratio_against_score`: ``R / R^q`` for one feature (``fig-ratio-z``);
* :func:`plot_confident_examples`: per-example ``R_i / R^q_i`` on data
  (``fig-confident-data``);
* :func:`plot_comparison`: the training comparison (``fig-training``);
* :func:`plot_coefficients`: the three fits' coefficients (``fig-coefficients``, explorer).

Each returns the matplotlib figure (or draws on the axes it is given); the chapter calls
``plt.show()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate
from .plotting import PALETTE
from .training import METHODS, FitRecord, summarize

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_LABELS = {"dropout": "dropout", "quadratic": "$R^q$ penalty", "l2": "L2 (CV)"}
_COLORS = {"dropout": 5, "quadratic": 6, "l2": 3}  # PALETTE: blue, vermillion, green


def _axes(ax: Axes | None) -> tuple[Figure, Axes]:
    import matplotlib.pyplot as plt

    if ax is None:
        return plt.subplots()
    return ax.figure, ax


def plot_bound_curve(
    scales: ArrayLike, curve: dict[str, NDArray[np.float64]], ax: Axes | None = None
) -> Figure:
    """Log-log plot of :func:`dropout_taylor.bounds.error_and_bounds` along the ray
    ``t beta``: the true ``|R - R^q|``, the Lagrange bound (theorem ``thm-lagrange``), the
    bound from ``0 < A'' <= 1/4`` and ``R`` itself, with a dotted line at ``t = 1``
    (chapter 5, figure ``fig-bound``)."""
    scales = _validate.finite_array(scales, "scales", ndim=1)
    fig, ax = _axes(ax)
    ax.loglog(
        scales, curve["error"], color=PALETTE[0], lw=2, label="$|R - R^q|$ (exact)"
    )
    ax.loglog(scales, curve["lagrange"], color=PALETTE[5], label="Lagrange bound")
    ax.loglog(
        scales, curve["second_order"], color=PALETTE[3], ls="--",
        label="bound from $A'' \\leq 1/4$",
    )  # fmt: skip
    ax.loglog(scales, curve["R"], color="0.6", ls=":", label="$R$ itself")
    ax.axvline(1.0, color="0.4", ls=":", lw=1)
    ax.set_xlabel("scale $t$ of the weights $t\\hat\\beta$ (dimensionless)")
    ax.set_ylabel("penalty or error (nats, summed)")
    ax.legend()
    return fig


def plot_partial_sums(
    partial: ArrayLike, exact: float, quadratic: float, ax: Axes | None = None
) -> Figure:
    """Even-order partial sums ``S_N`` (``partial[N]``) of the expected Taylor series of
    ``R`` on a log scale, with the exact ``R`` and ``R^q = S_2`` as lines (chapter 5, the
    worked example, figure ``fig-series``)."""
    partial = _validate.finite_array(partial, "partial", ndim=1)
    fig, ax = _axes(ax)
    orders = np.arange(2, len(partial), 2)
    ax.semilogy(
        orders, partial[orders], "o", ms=3, color=PALETTE[5], label="partial sum $S_N$"
    )
    ax.axhline(float(exact), color=PALETTE[0], label="exact $R$")
    ax.axhline(float(quadratic), color=PALETTE[1], ls="--", label="$R^q = S_2$")
    ax.set_xlabel("truncation order $N$")
    ax.set_ylabel("penalty (nats)")
    ax.legend()
    return fig


def plot_ratio_against_score(
    z: ArrayLike,
    ratio: dict[float, NDArray[np.float64]],
    lower: dict[float, NDArray[np.float64]],
    ax: Axes | None = None,
) -> Figure:
    """``R / R^q`` against the score (solid) and the lower bound of theorem
    ``thm-confident`` (dashed), one curve per dropout rate (the keys of ``ratio``) (chapter
    5, figure ``fig-ratio-z``)."""
    z = _validate.finite_array(z, "z", ndim=1)
    fig, ax = _axes(ax)
    for k, delta in enumerate(ratio):
        color = PALETTE[k + 1]
        ax.semilogy(z, ratio[delta], color=color, label=f"$\\delta$ = {delta}")
        ax.semilogy(z, lower[delta], color=color, ls="--", lw=1)
    ax.axhline(1, color="0.5", lw=0.8)
    ax.set_xlabel("score $z = x\\beta$ (logits)")
    ax.set_ylabel("$R / R^q$ (dimensionless)")
    ax.legend(title="solid: exact; dashed: bound", ncol=2)
    return fig


def plot_confident_examples(
    confidence: ArrayLike, ratio: ArrayLike, has_flip: ArrayLike, ax: Axes | None = None
) -> Figure:
    """Per-example ``R_i / R^q_i`` against ``|z_i|`` on a log scale, examples with a
    sign-flipping mask (``has_flip``) in orange (chapter 5, figure ``fig-confident-data``,
    theorem ``thm-confident``)."""
    confidence = _validate.finite_array(confidence, "confidence", ndim=1)
    ratio = _validate.finite_array(ratio, "ratio", ndim=1)
    flip = np.asarray(has_flip, bool)
    if not confidence.shape == ratio.shape == flip.shape:
        raise ValueError("confidence, ratio and has_flip must have the same length")
    fig, ax = _axes(ax)
    for sel, color, label in (
        (~flip, PALETTE[5], "no flipping mask"),
        (flip, PALETTE[1], "some mask flips the sign"),
    ):
        ax.semilogy(confidence[sel], ratio[sel], "o", ms=3, color=color, label=label)
    ax.axhline(1, color="0.5", lw=0.8)
    ax.set_xlabel("confidence $|z_i|$ (logits)")
    ax.set_ylabel("$R_i / R^q_i$ (dimensionless)")
    ax.legend()
    return fig


_COLUMNS = (
    ("angle_to_dropout", "angle to dropout fit (degrees)"),
    ("penalty_ratio", "$R(\\beta)\\,/\\,R^q(\\beta)$"),
    ("test_log_loss", "held-out log-loss (nats)"),
)


def plot_comparison(all_results: dict[str, dict]) -> Figure:
    """Chapter 5, figure ``fig-training``: one row per data set (the keys of
    ``all_results``, each a result of :func:`dropout_taylor.training.run_comparison`);
    columns: angle to the dropout fit (for dropout itself: to a refit with new masks),
    ``R(beta)/R^q(beta)``, held-out log-loss; mean +- one standard deviation over splits."""
    import matplotlib.pyplot as plt

    if not all_results:
        raise ValueError("all_results must hold at least one data set")
    fig, axes = plt.subplots(
        len(all_results), 3, figsize=(10.5, 3.25 * len(all_results)),
        constrained_layout=True, squeeze=False,
    )  # fmt: skip
    for row, (name, results) in zip(axes, all_results.items(), strict=True):
        for ax, (quantity, axis_label) in zip(row, _COLUMNS, strict=True):
            for k, method in enumerate(METHODS):
                d, m, s = summarize(results, method, quantity)
                label = _LABELS[method]
                if quantity == "angle_to_dropout" and method == "dropout":
                    label = "dropout, new masks"
                ax.errorbar(
                    d + 0.01 * (k - 1), m, yerr=s, marker="o", capsize=3,
                    color=PALETTE[_COLORS[method]], label=label,
                )  # fmt: skip
            ax.set_xlabel("dropout rate $\\delta$")
            ax.set_ylabel(axis_label)
        row[0].set_title(name, loc="left")
        row[1].axhline(1.0, color="0.5", lw=0.8)
    axes[0, 0].legend()
    return fig


def plot_coefficients(
    records: dict[str, FitRecord], ax: Axes, feature_names: list[str] | None = None
) -> None:
    """The three fits' coefficients (intercept excluded) side by side as grouped bars
    (chapter 5, figure ``fig-coefficients`` and the explorer). Without ``feature_names``
    the x axis is the feature index."""
    width = 0.27
    idx = np.arange(len(records["dropout"].beta) - 1)
    if feature_names is not None and len(feature_names) != len(idx):
        raise ValueError(
            f"feature_names must have {len(idx)} entries, got {len(feature_names)}"
        )
    for k, method in enumerate(METHODS):
        ax.bar(
            idx + (k - 1) * width, records[method].beta[1:], width,
            color=PALETTE[_COLORS[method]], label=_LABELS[method],
        )  # fmt: skip
    if feature_names is not None:
        ax.set_xticks(idx, feature_names, rotation=60, ha="right", fontsize=8)
    else:
        ax.set_xlabel("feature (pixel) index")
    ax.set_ylabel("coefficient\n(per training s.d. of the feature)")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.legend()

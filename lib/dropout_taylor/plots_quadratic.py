"""The figures of chapter 2 (the quadratic approximation and fast dropout).

* :func:`plot_small_rate`: ``R / R^q`` against the dropout rate (figure ``fig-small-rate``);
* :func:`plot_relative_error_maps`: ``R^q / R`` over score and noise level, dropout and
  Gaussian noise (figure ``fig-relative-error``);
* :func:`plot_fast_convergence`: the errors of fast dropout and of ``R^q`` against the number
  of equal contributions (figure ``fig-fast-convergence``);
* :func:`plot_comparison`: one example, its atoms, the fast-dropout normal and the three
  penalties (figure ``fig-rq-explorer`` and the explorer).

Each returns the matplotlib figure; the chapter calls ``plt.show()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate
from .closed_forms import equal_contributions_quadratic, equal_contributions_regularizer, gaussian_regularizer
from .fast_dropout import fast_dropout_regularizer
from .logpartition import logistic
from .plotting import PALETTE
from .quadratic_error import (
    dropout_relative_error,
    gaussian_relative_error,
    single_example,
    small_rate_ratio,
)
from .regularizers import exact_regularizer, quadratic_regularizer

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_small_rate(
    rates: ArrayLike, contributions: tuple[float, ...] = (0.25, 1.0, 2.0), z: float = 1.0, d: int = 4
) -> Figure:
    """``R / R^q`` against the dropout rate for one example with ``d`` equal contributions ``a``
    (solid), its small-rate limit :func:`~dropout_taylor.quadratic_error.small_rate_ratio`
    (dotted) and multiplicative Gaussian noise of the same variance (dashed) (chapter 2,
    figure ``fig-small-rate``, theorem ``thm-small-rate``)."""
    import matplotlib.pyplot as plt

    rates = _validate.finite_array(rates, "rates", ndim=1)
    fig, ax = plt.subplots()
    for colour, a in zip((PALETTE[5], PALETTE[1], PALETTE[6]), contributions, strict=False):
        ratio_d = [
            float(equal_contributions_regularizer(z, a, d, dl) / equal_contributions_quadratic(z, a, d, dl))
            for dl in rates
        ]
        s = np.sqrt(rates / (1 - rates) * d) * a
        ratio_g = gaussian_regularizer(z, s) / (0.5 * logistic.derivative(z, 2) * s**2)
        ax.plot(rates, ratio_d, color=colour, lw=2, label=f"dropout, $a = {a:g}$")
        ax.plot(rates, ratio_g, color=colour, lw=1.2, ls="--")
        ax.axhline(float(small_rate_ratio(z, np.full(d, a))), color=colour, ls=":", lw=1)
    ax.plot([], [], color="gray", ls="--", label="multiplicative Gaussian, same variance")
    ax.set_xscale("log")
    ax.set_xlabel(r"dropout rate $\delta$")
    ax.set_ylabel(r"$R / R^q$ (exact over quadratic)")
    ax.legend()
    return fig


def plot_relative_error_maps(z: ArrayLike, deltas: ArrayLike, sigmas: ArrayLike, d: int) -> Figure:
    """Two maps of ``log10(R^q / R)``: dropout over ``(z, delta)`` with ``d`` equal contributions,
    Gaussian noise over ``(z, s)``; the black contour is ``R^q = R``, dashed ones a factor 2
    (chapter 2, figure ``fig-relative-error``)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    z = _validate.finite_array(z, "z", ndim=1)
    maps = [
        (dropout_relative_error(z, deltas, d), deltas, rf"dropout rate $\delta$ ($d={d}$)"),
        (gaussian_relative_error(z, sigmas), sigmas, r"std of $\Delta$, $s$ (logit units)"),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True, layout="constrained")
    norm = TwoSlopeNorm(vmin=-3.0, vcenter=0.0, vmax=1.0)
    for ax, (errors, ys, ylabel) in zip(axes, maps, strict=True):
        values = np.log10(1 + errors)
        mesh = ax.pcolormesh(z, ys, np.clip(values, -3, 1), cmap="PuOr_r", norm=norm, shading="auto")
        ax.contour(z, ys, values, levels=[0.0], colors="k", linewidths=1.5)
        factor_two = [-np.log10(2), np.log10(2)]
        ax.contour(z, ys, values, levels=factor_two, colors="k", linewidths=0.8, linestyles="--")
        ax.set_xlabel(r"clean score $z$ (logit units)")
        ax.set_ylabel(ylabel)
        ax.grid(False)
    axes[0].set_title("dropout, contributions $z/d$ each")
    axes[1].set_title(r"Gaussian noise, $\Delta \sim N(0, s^2)$")
    bar = fig.colorbar(mesh, ax=axes, ticks=[-3, -2, -1, 0, np.log10(2), 1])
    bar.ax.set_yticklabels(["0.001", "0.01", "0.1", "1", "2", "10"])
    bar.set_label(r"$R^q / R$ (log scale)")
    return fig


def plot_fast_convergence(
    d_values: ArrayLike,
    errors: dict[float, tuple[NDArray[np.float64], NDArray[np.float64]]],
    predicted: dict[float, NDArray[np.float64]],
) -> Figure:
    """``|R^f - R|`` (solid, markers) and ``|R^q - R|`` (dotted) against the number of equal
    dropped contributions, per dropout rate, with the Edgeworth prediction (thin grey)
    (chapter 2, figure ``fig-fast-convergence``). ``errors[delta] = (R^f - R, R^q - R)`` as
    returned by :func:`~dropout_taylor.fast_dropout.fast_dropout_errors`."""
    import matplotlib.pyplot as plt

    d_values = _validate.finite_array(d_values, "d_values", ndim=1)
    colours = (PALETTE[5], PALETTE[0], PALETTE[6], PALETTE[3])
    fig, ax = plt.subplots()
    for k, (delta, (err_f, err_q)) in enumerate(errors.items()):
        hollow = k == 2  # the third curve (delta = 1 - first delta) coincides: hollow squares
        if hollow:
            style = {"marker": "s", "mfc": "none", "ms": 8, "lw": 1.2}
        else:
            style = {"marker": "o", "ms": 5, "lw": 3.0 - k}
        ax.loglog(d_values, np.abs(err_f), color=colours[k], label=rf"$R^f$, $\delta = {delta:g}$", **style)
        label_q = rf"$R^q$, $\delta = {delta:g}$"
        ax.loglog(d_values, np.abs(err_q), ":", color=colours[k], lw=1.5, label=label_q)
        ax.loglog(d_values, np.abs(predicted[delta]), color="gray", lw=0.8)
    ax.set_xlabel("number $d$ of dropped features (equal contributions)")
    ax.set_ylabel("absolute error of the penalty (nats)")
    ax.legend(ncol=2)
    return fig


def plot_comparison(
    delta: float, z: float, contributions: ArrayLike, ax: tuple[Axes, Axes] | None = None
) -> Figure:
    """The chapter 2 explorer: one example, dropout rate ``delta``, clean score ``z``, noisy
    contributions ``a_j`` (the rest of ``z`` is an intercept that is never dropped).

    Left: softplus, its quadratic model at ``z``, the atoms ``z + Delta`` of the dropout score
    (stems of height proportional to probability) and the normal density that fast dropout
    puts in their place. Right: exact ``R`` (enumeration), ``R^q`` and fast dropout ``R^f``
    (figure ``fig-rq-explorer``). Returns the figure.
    """
    import matplotlib.pyplot as plt

    X, beta, noise = single_example(z, contributions, delta)
    z = float(z)
    exact = exact_regularizer(X, beta, noise)
    quadratic = quadratic_regularizer(X, beta, noise)
    fast = fast_dropout_regularizer(X, beta, noise.delta, noisy=noise.noisy)
    atoms, prob = noise.atoms(X, beta)
    s = float(np.sqrt(noise.perturbation_variance(X, beta)[0]))

    if ax is None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [2.2, 1]})
    else:
        left, right = ax
        fig = left.figure
    span = max(4.0, float(np.max(np.abs(atoms))) + 1.0)
    w = np.linspace(z - span, z + span, 400)
    left.plot(w, logistic(w), color=PALETTE[0], lw=2, label=r"$A(w)=\log(1+e^w)$")
    slope, curvature = logistic.derivative(z, 1), logistic.derivative(z, 2)
    taylor = logistic(z) + slope * (w - z) + 0.5 * curvature * (w - z) ** 2
    left.plot(w, taylor, color=PALETTE[6], lw=1.5, ls="--", label="quadratic model at $z$")
    top = float(np.max(logistic(w)))
    heights = prob / max(float(prob.max()), 1e-300) * 0.35 * top
    left.vlines(z + atoms[0], 0, heights, color=PALETTE[5], lw=2, label="dropout atoms (height ∝ prob.)")
    if s > 0:
        density = np.exp(-0.5 * ((w - z) / s) ** 2)
        left.plot(w, 0.35 * top * density, color=PALETTE[1], lw=1.5, label="fast dropout normal (scaled)")
    left.axvline(z, color=PALETTE[0], ls=":", lw=1)
    left.set_ylim(-0.05 * top, 1.05 * top)
    left.set_xlabel(r"noised score $w = z + \Delta$ (logit units)")
    left.set_ylabel(r"$A(w)$ (nats)")
    left.legend(loc="upper left")
    names = ["exact $R$", "$R^q$", "fast $R^f$"]
    right.bar(names, [exact, quadratic, fast], color=[PALETTE[5], PALETTE[6], PALETTE[1]])
    right.set_ylabel("penalty of this example (nats)")
    if exact > 0:
        right.set_title(rf"$\delta={noise.delta:.2f}$, $z={z:.2f}$: $R^q/R={quadratic / exact:.3g}$")
    fig.tight_layout()
    return fig

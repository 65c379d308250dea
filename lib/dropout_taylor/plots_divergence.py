"""The figures of chapter 3 ("The Taylor series diverges"), one function per figure.

* :func:`plot_complex_plane`, :func:`plot_complex_plane_figure`: softplus in the complex plane,
  its singularities and the disc of convergence (figure ``fig-complex-plane``);
* :func:`plot_root_ratio`: root and ratio tests of the radius (figure ``fig-root-ratio``);
* :func:`plot_partial_sum_errors`: partial sums at one point (figure ``fig-partial-sums-point``);
* :func:`plot_expected_series_errors`: the three cases of theorem ``thm-expected-series``
  (figure ``fig-expected-three``);
* :func:`plot_worked_examples`: the two dropout examples (figure ``fig-worked-examples``);
* :func:`plot_support_variance`: reach against standard deviation (figure
  ``fig-support-variance``);
* :func:`plot_gaussian_truncation`: the Gaussian series as an asymptotic series (figure
  ``fig-gaussian-truncation``);
* :func:`plot_dropout_series`: the explorer (figure ``fig-explorer-static``).

Every figure is at most 7.5 inches wide, so its text stays readable in the book's text column
(about 700 pixels); two-panel figures are stacked. Each returns the matplotlib figure (and
what it computed, where that is useful); the chapter calls ``plt.show()``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate
from .logpartition import softplus_radius
from .plotting import PALETTE
from .series import (
    ExpectedSeries,
    dropout_atoms_mp,
    expected_series,
    leading_pole_coefficients,
    ratio_test,
    root_test,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Width of every figure of the chapter, in inches (100 dpi: 750 pixels).
WIDTH = 7.5


def plot_complex_plane(
    ax: Axes,
    z0: float,
    atoms: ArrayLike | None = None,
    probabilities: ArrayLike | None = None,
    xlim: tuple[float, float] = (-10.0, 14.0),
    ylim: tuple[float, float] = (-11.0, 11.0),
    background: bool = True,
) -> Any:
    """Draw softplus in the complex plane around real ``z0`` on a matplotlib axis (chapter 3).

    Background: the phase ``arg(1 + e^w)`` on a cyclic colour map (a phase portrait: all
    colours meet at the zeros ``i (2k+1) pi`` of ``1 + e^w``, where softplus has its branch
    points; left of the imaginary axis ``1 + e^w`` is close to 1 and the colour is flat).
    Crosses mark those zeros; the circle is the disc of convergence ``|w - z0| < rho(z0)``;
    if given, the points ``z0 + Delta`` for the atoms of a perturbation are drawn filled inside
    the disc and open outside, with area growing with the probability. Returns the image
    (for a colour bar) or None.
    """
    z0 = _validate.real(z0, "z0")
    rho = float(softplus_radius(z0))
    image = None
    if background:
        x = np.linspace(*xlim, 521)
        y = np.linspace(*ylim, 481)
        w = x[None, :] + 1j * y[:, None]
        pos = w.real > 0
        # arg(1 + e^w) without overflow: for Re w > 0 it is Im w + arg(1 + e^{-w}) (mod 2 pi).
        phase = np.angle(1 + np.exp(np.where(pos, -w, w))) + np.where(pos, w.imag, 0.0)
        phase = np.angle(np.exp(1j * phase))
        image = ax.imshow(phase, extent=(*xlim, *ylim), origin="lower", cmap="twilight",
                          vmin=-np.pi, vmax=np.pi, aspect="equal", alpha=0.75,
                          interpolation="bilinear")
    ks = np.arange(-8, 8)
    poles = (2 * ks + 1) * np.pi
    poles = poles[(poles > ylim[0]) & (poles < ylim[1])]
    theta = np.linspace(0, 2 * np.pi, 400)
    ax.fill(z0 + rho * np.cos(theta), rho * np.sin(theta), color=PALETTE[2], alpha=0.25, lw=0)
    ax.plot(z0 + rho * np.cos(theta), rho * np.sin(theta), color=PALETTE[5], lw=2.5,
            label=rf"disc of convergence, $\rho({z0:g}) = {rho:.3g}$")
    ax.plot([z0, 0], [0, np.pi], color=PALETTE[5], lw=1.2, ls="--")
    ax.plot(np.zeros_like(poles), poles, "X", color=PALETTE[6], mec="white", ms=12, mew=1.2,
            zorder=6, label=r"singularities $i(2k+1)\pi$")
    ax.plot([z0], [0], "o", color=PALETTE[0], ms=6, zorder=6, label=f"expansion point $z_0 = {z0:g}$")
    if atoms is not None:
        d = _validate.finite_array(atoms, "atoms", ndim=1)
        p = np.full(d.shape, 1.0 / d.size) if probabilities is None else _validate.finite_array(
            probabilities, "probabilities", ndim=1
        )
        inside = np.abs(d) < rho
        size = 40 + 160 * p / p.max()
        ax.scatter(z0 + d[inside], 0 * d[inside], s=size[inside], color=PALETTE[3], edgecolor="k",
                   zorder=7, label=r"$z_0 + \Delta$ inside the disc")
        ax.scatter(z0 + d[~inside], 0 * d[~inside], s=size[~inside], facecolor="white",
                   edgecolor=PALETTE[6], lw=2.2, zorder=7, label=r"$z_0 + \Delta$ outside")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(r"$\mathrm{Re}\, w$ (logit units)")
    ax.set_ylabel(r"$\mathrm{Im}\, w$ (logit units)")
    return image


def plot_complex_plane_figure(
    z0: float, atoms: ArrayLike, probabilities: ArrayLike, xlim: tuple[float, float] = (-11.0, 15.0)
) -> Figure:
    """Figure ``fig-complex-plane``: :func:`plot_complex_plane` at ``z0`` with the atoms
    ``z0 + Delta`` of a perturbation, a colour bar for the phase and the legend below."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(WIDTH, 7.2), layout="constrained")
    image = plot_complex_plane(ax, z0, atoms, probabilities, xlim=xlim)
    bar = fig.colorbar(image, ax=ax, shrink=0.7, ticks=[-np.pi, 0, np.pi])
    bar.set_label(r"phase $\arg(1 + e^w)$ (radians)")
    bar.ax.set_yticklabels([r"$-\pi$", "0", r"$\pi$"])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=10)
    return fig


def plot_root_ratio(coefficients: dict[float, list[Any]], z0_ratio: float = 3.0) -> Figure:
    """Figure ``fig-root-ratio`` (theorem ``thm-radius``, proposition ``prop-coefficients``).

    Top: the root test ``|a_n|^{-1/n} / rho(z0)`` for each expansion point of
    ``coefficients`` (``{z0: [a_0, ..., a_N]}``), with the law ``(n/2)^{1/n}``. Bottom: the
    ratio test ``|a_n / a_{n+1}| / rho`` at ``z0_ratio`` (which must be a key) and the
    prediction of the leading pole pair ``+-i pi``, on a log scale.
    """
    import matplotlib.pyplot as plt

    if z0_ratio not in coefficients:
        raise ValueError(f"z0_ratio must be one of the expansion points {list(coefficients)}")
    fig, (ax_root, ax_ratio) = plt.subplots(2, 1, figsize=(WIDTH, 7.8), layout="constrained")
    colours = (PALETTE[1], PALETTE[2], PALETTE[3], PALETTE[7], PALETTE[4], PALETTE[0])
    for colour, (z0, a) in zip(colours, coefficients.items(), strict=False):
        rho = math.hypot(z0, math.pi)
        n = np.arange(len(a))
        ax_root.plot(n, root_test(a) / rho, ".", ms=4, color=colour,
                     label=rf"$z_0 = {z0:g}$, $\rho = {rho:.3g}$")
    n = np.arange(2, len(coefficients[z0_ratio]))
    ax_root.plot(n, (n / 2) ** (1 / n), "--", color=PALETTE[0], lw=1.2, label=r"$(n/2)^{1/n}$")
    ax_root.set(ylim=(0.98, 1.3), xlabel="order $n$", ylabel=r"$|a_n|^{-1/n} / \rho(z_0)$",
                title="root test: converges to the radius")
    ax_root.legend(ncol=2, fontsize=10, markerscale=2.5)
    a = coefficients[z0_ratio]
    n_max = len(a) - 1
    rho = math.hypot(z0_ratio, math.pi)
    lead = leading_pole_coefficients(z0_ratio, n_max)
    ax_ratio.semilogy(np.arange(n_max), ratio_test(a) / rho, ".", color=PALETTE[5], label="exact")
    ax_ratio.semilogy(np.arange(2, n_max), np.abs(lead[2:-1] / lead[3:]) / rho, lw=0.8,
                      color=PALETTE[6], label=r"leading pair $\pm i\pi$")
    ax_ratio.set(xlabel="order $n$", ylabel=r"$|a_n / a_{n+1}| / \rho$",
                 title=rf"ratio test at $z_0 = {z0_ratio:g}$: no limit")
    ax_ratio.legend(loc="lower right", fontsize=10, markerscale=1.5)
    return fig


def plot_partial_sum_errors(errors: dict[float, NDArray[np.float64]], floor: float = 1e-27) -> Figure:
    """Figure ``fig-partial-sums-point``: ``|S_N(h) - A(z0 + h)|`` against N for each step
    ``h = f rho`` (``errors`` maps f to the errors, N = 0, 1, ...); values below ``floor`` (the
    working precision) are not drawn."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(WIDTH, 4.4), layout="constrained")
    colours = (PALETTE[3], PALETTE[2], PALETTE[5], PALETTE[1], PALETTE[6], PALETTE[7])
    for colour, (f, err) in zip(colours, errors.items(), strict=False):
        shown = np.where(err > floor, err, np.nan)
        ax.semilogy(np.arange(len(err)), shown, color=colour, lw=1.8, label=rf"$h = {f:g}\,\rho$")
    ax.set(xlabel="truncation order $N$", ylabel=r"$|S_N(h) - A(z_0 + h)|$ (loss units)",
           ylim=(floor, 1e12))
    ax.legend(ncol=2)
    return fig


def plot_expected_series_errors(cases: dict[str, ExpectedSeries]) -> Figure:
    """Figure ``fig-expected-three``: the error ``|S_N - E A(z + Delta)|`` of the expected
    series for each named case (the legend adds ``M / rho``), and the line ``1/N``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(WIDTH, 4.4), layout="constrained")
    n_max = 1
    for colour, (name, case) in zip((PALETTE[3], PALETTE[1], PALETTE[6]), cases.items(), strict=False):
        n = np.arange(len(case.errors))
        n_max = max(n_max, n[-1])
        ax.semilogy(n, np.maximum(case.errors, 1e-30), color=colour, lw=2,
                    label=rf"{name}, $M/\rho = {case.reach / case.rho:.2f}$")
    n = np.arange(1, n_max + 1)
    ax.semilogy(n, 1 / n, ":", color=PALETTE[0], lw=1.5, label="$1/N$")
    ax.set(xlabel="truncation order $N$", ylabel=r"$|S_N - \mathbb{E}A(z+\Delta)|$ (loss units)",
           ylim=(1e-30, 1e80))
    ax.legend()
    return fig


def plot_worked_examples(
    diverging: ExpectedSeries, converging: ExpectedSeries, R: float, Rq: float
) -> Figure:
    """Figure ``fig-worked-examples``. Top: ``|S_N|`` of the diverging example, marked by sign,
    against the exact ``E A(z + Delta)``. Bottom: ``S_N - A(z)`` of the converging example
    against the exact regulariser ``R`` and the quadratic value ``R^q = S_2 - A(z)``."""
    import matplotlib.pyplot as plt

    from .series import softplus_mp

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(WIDTH, 7.8), layout="constrained")
    s1 = np.array([float(s) for s in diverging.sums])
    n = np.arange(len(s1))
    ax1.semilogy(n, np.abs(s1), color=PALETTE[0], lw=0.6)
    ax1.semilogy(n[s1 > 0], s1[s1 > 0], "o", ms=4, color=PALETTE[5], label=r"$S_N > 0$")
    ax1.semilogy(n[s1 < 0], -s1[s1 < 0], "s", ms=4, color=PALETTE[6], label=r"$S_N < 0$")
    ax1.axhline(float(diverging.exact), color=PALETTE[0], lw=1.5,
                label=r"exact $\mathbb{E}A(z+\Delta)$")
    ax1.set(xlabel="truncation order $N$", ylabel=r"$|S_N|$ (loss units)",
            title=rf"atoms outside the disc ($z = {diverging.z:g}$)")
    ax1.legend(loc="upper left")
    a_z = softplus_mp(converging.z)
    r2 = np.array([float(s - a_z) for s in converging.sums])
    ax2.plot(np.arange(len(r2)), r2, ".-", color=PALETTE[5], lw=1, ms=4, label=r"$S_N - A(z)$")
    ax2.axhline(R, color=PALETTE[0], lw=1.5, label=rf"exact $R$ = {R:.4f}")
    ax2.plot([2], [Rq], "X", color=PALETTE[6], ms=11, label=rf"$R^q = S_2 - A(z)$ = {Rq:.2g}")
    ax2.set(xlabel="truncation order $N$", ylabel="penalty (loss units)",
            title=rf"atoms inside the disc ($z = {converging.z:g}$)", ylim=(-0.05, 0.5))
    ax2.legend(loc="center right")
    return fig


def plot_support_variance(deltas: ArrayLike, curves: dict[tuple[float, ...], NDArray[np.float64]]) -> Figure:
    """Figure ``fig-support-variance`` (corollary ``cor-support``): for each example
    (``curves`` maps contributions to the columns of
    :func:`~dropout_taylor.series.support_curve`), one panel with the reach, the standard
    deviation and the radius against the dropout rate, the rates where the expected series
    converges shaded, and the probability outside the disc on a right-hand scale."""
    import matplotlib.pyplot as plt

    deltas = _validate.finite_array(deltas, "deltas", ndim=1)
    fig, axes = plt.subplots(len(curves), 1, figsize=(WIDTH, 3.9 * len(curves)), sharex=True,
                             layout="constrained", squeeze=False)
    for i, (ax, (a, rows)) in enumerate(zip(axes[:, 0], curves.items(), strict=True)):
        ax.plot(deltas, rows[:, 0], color=PALETTE[6], lw=2, label=r"reach $\max|\Delta|$")
        ax.plot(deltas, rows[:, 1], "--", color=PALETTE[5], lw=2, label=r"sd$(\Delta)$")
        ax.axhline(rows[0, 3], color=PALETTE[0], lw=1.2, label=rf"$\rho(z) = {rows[0, 3]:.3g}$")
        ax.fill_between(deltas, 0, 1, where=rows[:, 0] < rows[:, 3], color=PALETTE[3], alpha=0.2,
                        transform=ax.get_xaxis_transform(), label="series converges")
        mass = ax.twinx()
        mass.plot(deltas, rows[:, 2], ":", color=PALETTE[7], lw=2.2)
        mass.set(ylim=(0, 1), ylabel=r"P($\Delta$ outside the disc)")
        mass.grid(False)
        a_text = ", ".join(f"{v:g}" for v in a)
        ax.set(ylabel="logit units", ylim=(0, 16), title=f"a = ({a_text}), z = {sum(a):g}")
        if i == 0:
            ax.plot([], [], ":", color=PALETTE[7], lw=2.2, label=r"P($\Delta$ outside), right")
            ax.legend(loc="upper left", ncol=2)
    axes[-1, 0].set_xlabel(r"dropout rate $\delta$")
    return fig


def plot_gaussian_truncation(
    fractions: ArrayLike,
    errors: dict[float, NDArray[np.float64]],
    z_detail: float = 2.0,
    shown: tuple[float, ...] = (0.2, 0.3, 0.5, 1.0),
) -> Figure:
    """Figure ``fig-gaussian-truncation`` (proposition ``prop-asymptotic``).

    ``errors[z]`` is :func:`~dropout_taylor.series.gaussian_truncation_table` at score ``z``
    for the noise levels ``s = f rho(z)``, ``f`` in ``fractions``. Top: the error of ``T_2K``
    against ``2K`` at ``z_detail`` for the levels in ``shown`` (circles: the best order).
    Bottom left: the best order ``2K*`` against ``(rho / s)^2``; bottom right: the smallest
    error against the smallest-term estimate ``2 sqrt 2 (s / rho)^2 exp(-rho^2 / (2 s^2))``.
    """
    import matplotlib.pyplot as plt

    fractions = _validate.finite_array(fractions, "fractions", ndim=1)
    if z_detail not in errors:
        raise ValueError(f"z_detail must be one of the scores {list(errors)}")
    fig = plt.figure(figsize=(WIDTH, 8.2), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    ax_err = fig.add_subplot(grid[0, :])
    ax_opt, ax_min = fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    for colour, f in zip((PALETTE[1], PALETTE[2], PALETTE[3], PALETTE[7]), shown, strict=False):
        err = errors[z_detail][int(np.argmin(np.abs(fractions - f)))]
        orders = 2 * np.arange(len(err))
        ax_err.semilogy(orders, err, "-", color=colour, lw=1.8, label=rf"$s = {f:g}\,\rho$")
        ax_err.semilogy([orders[np.argmin(err)]], [err.min()], "o", color=colour, ms=9, mfc="none",
                        mew=2)
    ax_err.set(xlabel="truncation order $2K$", ylabel=r"$|\mathbb{E}A(z+\Delta) - T_{2K}|$",
               ylim=(1e-12, 1e8), title=rf"error of the truncation at $z = {z_detail:g}$ (loss units)")
    ax_err.legend(ncol=2, fontsize=10)
    x = fractions**-2
    ax_opt.plot(x, x, color=PALETTE[0], lw=1, label=r"$(\rho/s)^2$")
    ax_min.semilogy(x, 2 * math.sqrt(2) * fractions**2 * np.exp(-x / 2), "--", color=PALETTE[0],
                    lw=1.2, label="smallest term")
    for colour, marker, (z0, err) in zip((PALETTE[5], PALETTE[6]), "os", errors.items(), strict=False):
        ax_opt.plot(x, 2 * np.argmin(err, axis=1), marker, color=colour, ms=7, label=rf"$z = {z0:g}$")
        ax_min.semilogy(x, err.min(axis=1), marker, color=colour, ms=7, label=rf"$z = {z0:g}$")
    ax_opt.set(xlabel=r"$(\rho / s)^2$", ylabel="best order $2K^*$", title="where to stop")
    ax_min.set(xlabel=r"$(\rho / s)^2$", ylabel="smallest error", title="how well it can do")
    ax_opt.legend(fontsize=9)
    ax_min.legend(fontsize=9)
    return fig


def plot_dropout_series(
    a: ArrayLike, delta: float, n_max: int = 60, dps: int = 30
) -> tuple[Figure, ExpectedSeries]:
    """The explorer's figure (chapter 3, figure ``fig-explorer-static``): dropout with
    contributions ``a`` (all features noisy, so ``z = sum_j a_j``) at rate ``delta``.

    Top: the atoms ``z + Delta`` against the disc of convergence in the complex plane. Bottom:
    the error ``|S_N - E A(z + Delta)|`` of the partial sums of the expected series and the
    size of its terms, on a log scale. Returns the figure and the
    :class:`~dropout_taylor.series.ExpectedSeries`.
    """
    import matplotlib.pyplot as plt

    a = _validate.finite_array(a, "a", ndim=1)
    delta = _validate.rate(delta)
    z = float(np.sum(a))
    atoms, probs = dropout_atoms_mp(a, delta, dps)
    series = expected_series(z, atoms, probs, n_max=n_max, dps=dps)
    fig, axes = plt.subplots(2, 1, figsize=(WIDTH, 11.0), layout="constrained",
                             gridspec_kw={"height_ratios": [1.6, 1]})
    d = np.array([float(v) for v in atoms])
    p = np.array([float(v) for v in probs])
    span = max(series.rho, float(np.max(np.abs(d)))) * 1.15 + 1
    plot_complex_plane(axes[0], z, d[p > 0], p[p > 0], xlim=(z - span, z + span),
                       ylim=(-span, span), background=True)
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=10)
    verdict = "converges" if series.reach < series.rho else (
        "diverges" if series.reach > series.rho else "boundary")
    axes[0].set_title(rf"max$|\Delta|$ = {series.reach:.3g}, $\rho(z)$ = {series.rho:.3g}: {verdict}")
    n = np.arange(n_max + 1)
    floor = 10.0 ** (-dps + 3)  # below this the mpmath values are rounding noise: not drawn
    err = np.where(series.errors > floor, series.errors, np.nan)
    terms = np.where(series.abs_terms > floor, series.abs_terms, np.nan)
    axes[1].semilogy(n, err, color=PALETTE[5], lw=2, label=r"error $|S_N - \mathbb{E}A(z+\Delta)|$")
    axes[1].semilogy(n, terms, ".", color=PALETTE[1], ms=6,
                     label=r"nonzero terms $|a_n\,\mathbb{E}\Delta^n|$")
    axes[1].axhline(float(abs(series.exact)), color=PALETTE[0], lw=1, ls=":",
                    label=r"$\mathbb{E}A(z+\Delta)$ itself")
    axes[1].set_xlabel("truncation order $N$")
    axes[1].set_ylabel("absolute value (loss units)")
    a_text = ", ".join(f"{v:g}" for v in a)
    axes[1].set_title(rf"$a = ({a_text})$, $\delta = {delta:g}$, $z = {z:g}$")
    axes[1].legend(loc="upper left", fontsize=10)
    return fig, series

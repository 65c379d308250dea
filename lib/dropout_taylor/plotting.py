"""Plot style shared by the chapters: a colour-blind-safe palette and axis helpers."""

from __future__ import annotations

import matplotlib as mpl

#: Okabe & Ito (2008) colour-blind-safe palette: black, orange, sky blue, bluish green, yellow,
#: blue, vermillion, reddish purple.
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")


def use_book_style() -> None:
    """Apply the book's matplotlib style: Okabe-Ito colour cycle, readable sizes, grid.

    Inside a Jupyter kernel it also selects the inline backend, so figures are stored in the
    notebook even when ``MPLBACKEND`` is set to a non-interactive backend in the environment.
    """
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a runtime dependency
        shell = None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        shell.run_line_magic("matplotlib", "inline")
    mpl.rcParams.update(
        {
            "axes.prop_cycle": mpl.cycler(color=list(PALETTE[1:]) + [PALETTE[0]]),
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "font.size": 11,
            "axes.titlesize": 11,
            "legend.fontsize": 9,
            "image.cmap": "cividis",
        }
    )


def plot_atoms(ax, atoms, probabilities, sd: float, color: str = PALETTE[5]) -> None:
    """Stem plot of a finite distribution (the dropout atoms of Delta, chapter 1), with the
    normal density of the same standard deviation ``sd`` for comparison and dotted lines at
    plus and minus one standard deviation."""
    import numpy as np

    ax.vlines(atoms, 0, probabilities, color=color, lw=2, label="dropout atoms (probability)")
    ax.plot(atoms, probabilities, "o", color=color, ms=4)
    grid = np.linspace(np.min(atoms) - 1, np.max(atoms) + 1, 400)
    density = np.exp(-0.5 * (grid / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
    ax.plot(grid, density, color=PALETTE[1], lw=2, label="normal, same variance (per unit width)")
    for sign in (-1, 1):
        ax.axvline(sign * sd, color=PALETTE[0], ls=":", lw=1)
    ax.set_xlabel(r"perturbation of the score $\Delta$ (logit units)")
    ax.set_ylabel("probability")
    ax.legend(loc="upper left")

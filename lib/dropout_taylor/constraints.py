"""The admissible region: weights for which every dropout perturbation lies inside the radius.

The Taylor series of softplus at the score ``z`` converges exactly on the disc
``|w - z| < rho(z) = sqrt(z^2 + pi^2)`` (``logpartition.softplus_radius``), and the expected
series ``sum_n A^{(n)}(z) E[Delta^n] / n!`` converges iff every atom of ``Delta`` lies strictly
inside it (chapter 3). Chapter 4 (``04_constraints``) asks for which weights that holds:

* :func:`perturbation_ratio`: ``max |Delta_i| / rho(z_i)`` per example, from the closed-form
  extreme atoms ``max Delta = r S+ + S-``, ``min Delta = -(S+ + r S-)``
  (``noise.Dropout.extreme_perturbations``); the example is admissible iff the ratio is < 1
  (theorem ``thm-admissible``);
* :func:`mass_outside`: the probability ``P(|Delta_i| >= rho(z_i))`` of the masks outside the
  disc, exactly by enumeration (at most 20 noisy features), by Monte Carlo with a Wilson
  confidence interval above that, or in closed form for Gaussian noise (``thm-gaussian-none``);
* :func:`ball_radius`: the largest L1 / L2 / L-infinity ball of dropped weights inside the
  admissible region of every example, whatever the undropped weights (``thm-balls``), and
  :func:`confidence_cap`, the cap that ball puts on confident predictions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from . import _validate
from .logpartition import softplus_radius
from .noise import MAX_ENUMERATION_FEATURES, AdditiveGaussian, Dropout, MultiplicativeGaussian

#: The dual exponent of each norm: sup over the unit ball of ||.||_p of a . beta is ||a||_q.
DUAL_NORM = {1: np.inf, 2: 2, np.inf: 1}

#: Examples per block in the Monte Carlo estimate (bounds memory at about 2^22 floats).
_MC_BLOCK_FLOATS = 1 << 22


def _norm(norm: float) -> float:
    if norm not in DUAL_NORM:
        raise ValueError(f"norm must be 1, 2 or numpy.inf, got {norm!r}")
    return float(norm)


def perturbation_ratio(X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None = None
                       ) -> NDArray[np.float64]:
    """``max_m |Delta_i(m)| / rho(z_i)`` for every example i (chapter 4, ``thm-admissible``).

    ``max |Delta_i| = max(r S+_i + S-_i, S+_i + r S-_i)`` with ``S+-_i`` the sums of the
    positive and negative contributions ``a_ij = x_ij beta_j`` over the dropped features
    (``noise.Dropout.extreme_perturbations``), and ``rho(z_i) = sqrt(z_i^2 + pi^2)`` with the
    full score ``z_i = x_i . beta`` (undropped columns such as an intercept move ``z_i`` but
    not ``Delta_i``). A ratio below 1 means every mask of positive probability is inside the
    disc of convergence; ``delta = 0`` gives 0 (no noise).
    """
    noise = Dropout(delta, noisy=noisy)
    low, high = noise.extreme_perturbations(X, beta)
    return np.maximum(high, -low) / softplus_radius(noise.scores(X, beta))


def admissible(X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None = None
               ) -> NDArray[np.bool_]:
    """Boolean per example: every dropout atom strictly inside ``rho(z_i)`` (ratio < 1)."""
    return perturbation_ratio(X, beta, delta, noisy) < 1.0


def admissible_grid(x: ArrayLike, betas: ArrayLike, delta: float, noisy: ArrayLike | None = None
                    ) -> NDArray[np.float64]:
    """:func:`perturbation_ratio` of one example ``x`` at many weights ``betas`` (rows).

    The contributions ``a_j = x_j beta_j`` are symmetric in ``x`` and ``beta``, so the rows of
    ``betas`` can play the part of examples and ``x`` that of the weights: used to draw the
    admissible region of chapter 4 on a grid of weights.
    """
    x = _validate.finite_array(x, "x", ndim=1)
    betas = _validate.finite_array(betas, "betas")
    shape = betas.shape[:-1]
    return perturbation_ratio(betas.reshape(-1, x.shape[0]), x, delta, noisy).reshape(shape)


@dataclass(frozen=True)
class OutsideMass:
    """The probability of the perturbations outside the disc of convergence.

    ``per_example[i] = P(|Delta_i| >= rho(z_i))``; ``mean`` is their average over examples and
    ``(low, high)`` a confidence interval for it at ``level`` (equal to ``mean`` when exact).
    ``method`` says how it was computed: ``"exact enumeration"``, ``"Monte Carlo"`` or
    ``"exact (normal tail)"``; ``n_samples`` is the number of masks per example (Monte Carlo).
    """

    per_example: NDArray[np.float64]
    mean: float
    low: float
    high: float
    method: str
    level: float = 0.95
    n_samples: int | None = None

    @property
    def exact(self) -> bool:
        return self.method != "Monte Carlo"

    def __repr__(self) -> str:
        if self.exact:
            return f"mass outside {self.mean:.4g}, {self.method}"
        return (
            f"mass outside {self.mean:.4g}, {self.level:.0%} CI [{self.low:.4g}, "
            f"{self.high:.4g}], Monte Carlo, {self.n_samples} masks"
        )


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927).

    ``(p + k^2/2N +- k sqrt(p(1-p)/N + k^2/4N^2)) / (1 + k^2/N)``, ``k`` the normal quantile.
    Used for the Monte Carlo mass outside: with independent masks for every example, the pooled
    count of outside masks is a sum of independent Bernoulli variables whose variance is at most
    the binomial one, so the interval is conservative.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes}, {trials}")
    k = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / trials
    centre = p + k * k / (2 * trials)
    half = k * math.sqrt(p * (1 - p) / trials + k * k / (4 * trials * trials))
    denom = 1 + k * k / trials
    return max(0.0, (centre - half) / denom), min(1.0, (centre + half) / denom)


def mass_outside(
    X: ArrayLike,
    beta: ArrayLike,
    noise: Dropout | AdditiveGaussian | MultiplicativeGaussian,
    method: str = "auto",
    rng: np.random.Generator | None = None,
    n_samples: int = 1024,
    level: float = 0.95,
) -> OutsideMass:
    """``P(|Delta_i| >= rho(z_i))`` for every example, and its mean (chapter 4).

    * Dropout, ``method="exact"`` (the default for at most 20 noisy features): sum of the
      probabilities ``(1-delta)^kept delta^dropped`` of the enumerated masks whose atom is
      outside, computed with ``noise.Dropout.expect`` in blocks.
    * Dropout, ``method="monte-carlo"`` (the default above 20): ``n_samples`` independent masks
      per example from ``rng`` (required); the per-example proportions, their mean, and a
      Wilson interval at ``level`` for the mean (:func:`wilson_interval`).
    * Gaussian models: ``Delta_i ~ N(0, s_i^2)`` so the mass is ``erfc(rho_i / (s_i sqrt 2))``,
      positive whenever ``s_i > 0`` (theorem ``thm-gaussian-none``).
    """
    z = noise.scores(X, beta)
    rho = softplus_radius(z)
    if isinstance(noise, AdditiveGaussian | MultiplicativeGaussian):
        s = np.sqrt(noise.perturbation_variance(X, beta))
        with np.errstate(divide="ignore"):
            per = np.where(s > 0, special.erfc(rho / (np.sqrt(2) * np.where(s > 0, s, 1.0))), 0.0)
        m = float(per.mean())
        return OutsideMass(per, m, m, m, "exact (normal tail)", level)
    if not isinstance(noise, Dropout):
        raise ValueError(f"noise must be a Dropout or Gaussian noise model, got {type(noise).__name__}")
    a = noise.contributions(X, beta)
    if method == "auto":
        method = "exact" if a.shape[1] <= MAX_ENUMERATION_FEATURES else "monte-carlo"
    if method == "exact":
        rho_col = rho[:, None]
        z_col = z[:, None]
        per = noise.expect(lambda w: (np.abs(w - z_col) >= rho_col).astype(float), X, beta)
        m = float(per.mean())
        return OutsideMass(per, m, m, m, "exact enumeration", level)
    if method != "monte-carlo":
        raise ValueError(f"method must be 'auto', 'exact' or 'monte-carlo', got {method!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator for the Monte Carlo estimate")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    n, k = a.shape
    counts = np.zeros(n, dtype=np.int64)
    block = max(1, _MC_BLOCK_FLOATS // max(n_samples * max(k, 1), 1))
    for start in range(0, n, block):
        rows = slice(start, start + block)
        kept = rng.random((a[rows].shape[0], n_samples, k)) >= noise.delta
        atoms = np.einsum("ij,isj->is", a[rows], np.where(kept, noise.r, -1.0))
        counts[rows] = np.count_nonzero(np.abs(atoms) >= rho[rows, None], axis=1)
    per = counts / n_samples
    low, high = wilson_interval(int(counts.sum()), n * n_samples, level)
    return OutsideMass(per, float(per.mean()), low, high, "Monte Carlo", level, n_samples)


def ball_radius(X: ArrayLike, delta: float, norm: float = 2, noisy: ArrayLike | None = None) -> float:
    """Largest radius of a norm ball of dropped weights inside every example's admissible region.

    ``t* = pi / (max(1, r) max_i ||x_{i,noisy}||_q)`` with ``q`` the dual exponent of ``norm``
    (1 <-> inf, 2 <-> 2) and ``r = delta / (1 - delta)`` (chapter 4, theorem ``thm-balls``):
    every weight vector whose dropped part has ``||beta_noisy||_norm < t*`` is admissible for
    every example whatever its undropped weights (intercept), and for every ``t > t*`` some
    weight vector in the ball of radius ``t`` is not. Infinite when ``delta = 0`` or the dropped
    features are all zero.
    """
    norm = _norm(norm)
    X = _validate.finite_array(X, "X", ndim=2)
    delta = _validate.rate(delta)
    keep = _validate.feature_mask(noisy, X.shape[1])
    dual = np.linalg.norm(X[:, keep], ord=DUAL_NORM[norm], axis=1).max(initial=0.0)
    r = delta / (1.0 - delta)
    if delta == 0 or dual == 0:
        return math.inf
    return math.pi / (max(1.0, r) * float(dual))


def ball_witness(x: ArrayLike, delta: float, t: float, norm: float = 2,
                 noisy: ArrayLike | None = None) -> NDArray[np.float64]:
    """A weight vector with ``||beta_noisy||_norm = t`` whose largest atom is ``max(1, r) t ||x||_q``.

    The equality case of Hoelder's inequality with ``sign(beta_j) = sign(x_j)``, so every
    contribution ``a_j = x_j beta_j`` is >= 0 and the extreme atom is ``max(r, 1) sum_j a_j``
    (keep all if ``r >= 1``, drop all if ``r < 1``). Its undropped weights are zero; chapter 4 adds an
    intercept that sets ``z = 0`` to exhibit a weight vector just outside ``t*`` that is not
    admissible (theorem ``thm-balls``). ``x`` must have a nonzero dropped entry.
    """
    norm = _norm(norm)
    x = _validate.finite_array(x, "x", ndim=1)
    delta = _validate.rate(delta)
    t = _validate.scale(t, "t")
    keep = _validate.feature_mask(noisy, x.shape[0])
    xn = x[keep]
    if not np.any(xn):
        raise ValueError("x must have a nonzero dropped feature")
    sign = np.sign(xn)
    if norm == 1:
        direction = np.zeros_like(xn)
        j = int(np.argmax(np.abs(xn)))
        direction[j] = sign[j]
    elif norm == 2:
        direction = sign * np.abs(xn) / np.linalg.norm(xn)
    else:
        direction = np.where(xn != 0, sign, 0.0)
    beta = np.zeros_like(x)
    beta[keep] = t * direction
    return beta


def ball_tightness(
    X: ArrayLike,
    delta: float,
    norm: float,
    noisy: ArrayLike | None,
    rng: np.random.Generator,
    n_directions: int = 200,
    margin: float = 1e-3,
) -> tuple[bool, bool]:
    """Test that :func:`ball_radius` ``t*`` is the largest admissible ball (theorem ``thm-balls``).

    Returns ``(inside, outside)``. ``inside``: ``n_directions`` weight vectors drawn on the
    sphere ``||beta_N||_norm = (1 - margin) t*`` in random directions, and the extremal weights
    of :func:`ball_witness` for every example at the same radius, all have
    ``M = max |Delta_i| < pi`` for every example, i.e. they are admissible whatever the
    undropped weights add to the scores (the worst case is ``z_i = 0``, ``rho(0) = pi``).
    ``outside``: the extremal weights at ``(1 + margin) t*`` for the example of largest dual
    norm ``||x_{i,N}||_q`` have ``M >= pi`` there, so with the intercept that puts its score
    at zero they are not admissible. ``M`` comes from the closed-form extreme atoms of
    :meth:`~dropout_taylor.noise.Dropout.extreme_perturbations`, not from ``t*``.
    """
    norm = _norm(norm)
    X = _validate.finite_array(X, "X", ndim=2)
    delta = _validate.rate(delta)
    keep = _validate.feature_mask(noisy, X.shape[1])
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy Generator (np.random.default_rng(seed))")
    if n_directions < 1:
        raise ValueError(f"n_directions must be >= 1, got {n_directions}")
    if not 0 < margin < 1:
        raise ValueError(f"margin must lie in (0, 1), got {margin}")
    t_star = ball_radius(X, delta, norm, keep)
    if not math.isfinite(t_star):
        raise ValueError("the ball is unbounded (delta = 0 or all dropped features are zero)")
    XN, dropout = X[:, keep], Dropout(delta)

    def reach(w: NDArray[np.float64]) -> NDArray[np.float64]:
        low, high = dropout.extreme_perturbations(XN, w)
        return np.maximum(high, -low)  # M(beta), independent of the undropped weights

    d = XN.shape[1]
    v = rng.normal(size=(n_directions, d)) * rng.exponential(size=(n_directions, d))
    v *= (1 - margin) * t_star / np.linalg.norm(v, ord=norm, axis=1, keepdims=True)
    extremal = [ball_witness(x_i, delta, (1 - margin) * t_star, norm, keep)[keep] for x_i in X]
    inside = max(reach(w).max() for w in [*v, *extremal]) < math.pi
    worst = int(np.argmax(np.linalg.norm(XN, ord=DUAL_NORM[norm], axis=1)))
    witness = ball_witness(X[worst], delta, (1 + margin) * t_star, norm, keep)[keep]
    outside = reach(witness)[worst] >= math.pi
    return bool(inside), bool(outside)


def outside_share_by_intercept(
    X: ArrayLike,
    beta: ArrayLike,
    delta: float,
    noisy: ArrayLike,
    intercepts: ArrayLike,
) -> NDArray[np.float64]:
    """Share of examples outside the radius when the undropped part of the score is ``c``.

    For each ``c`` in ``intercepts``: the mean over examples of
    ``[M_i >= rho(x_{i,N} . beta_N + c)]``, with ``M_i = max |Delta_i|`` from the dropped
    features only (theorem ``thm-intercept``, chapter 4: the intercept moves the score, not the
    perturbation). With an intercept column of ones and no other undropped feature, ``c`` is the
    intercept itself.
    """
    X, beta = _validate.design(X, beta)
    keep = _validate.feature_mask(noisy, X.shape[1])
    c = _validate.finite_array(intercepts, "intercepts", ndim=1)
    low, high = Dropout(delta).extreme_perturbations(X[:, keep], beta[keep])
    reach, z_dropped = np.maximum(high, -low), X[:, keep] @ beta[keep]
    return np.mean(reach[:, None] >= softplus_radius(z_dropped[:, None] + c), axis=0)


def confidence_cap(delta: float) -> float:
    """``sigma(pi / max(1, r))``: the confidence no model in the ball of :func:`ball_radius`
    can reach on a positive and a negative example at once (chapter 4, ``thm-balls``).

    Inside the ball the dropped features move every score by less than ``pi / max(1, r)``, so
    two scores differ by less than ``2 pi / max(1, r)``, while predicting ``p >= q`` on one
    example and ``p <= 1 - q`` on another needs a difference of ``2 logit(q)``.
    """
    delta = _validate.rate(delta)
    return float(special.expit(math.pi / max(1.0, delta / (1.0 - delta))))


def region_confidence_cap(delta: float) -> float:
    """``sigma(pi / sqrt(r^2 - 1))`` for ``delta > 1/2``: the largest predicted probability of
    any admissible model without undropped weights (chapter 4, ``thm-admissible``, case
    ``r > 1``); 1 when ``delta <= 1/2`` (the region then contains arbitrarily confident models).
    """
    delta = _validate.rate(delta)
    r = delta / (1.0 - delta)
    if r <= 1:
        return 1.0
    return float(special.expit(math.pi / math.sqrt(r * r - 1)))


def delta_free_ratio(X: ArrayLike, beta: ArrayLike, noisy: ArrayLike | None = None) -> NDArray[np.float64]:
    """``max(S+_i, S-_i) / rho(z_i)``: a lower bound on :func:`perturbation_ratio` for every
    dropout rate ``0 < delta < 1`` (chapter 4, ``thm-small-delta``).

    The mask that keeps the positive and drops the negative contributions moves the score by
    ``r S+ + S- >= S-``, the opposite mask by ``-(S+ + r S-)``, so ``max |Delta| >= max(S+, S-)``
    whatever delta; a ratio >= 1 means the example is outside the radius for every rate.
    """
    X, beta = _validate.design(X, beta)
    keep = _validate.feature_mask(noisy, X.shape[1])
    a = (X * beta)[:, keep]
    s_plus, s_minus = np.clip(a, 0, None).sum(axis=1), np.clip(-a, 0, None).sum(axis=1)
    return np.maximum(s_plus, s_minus) / softplus_radius(X @ beta)


@dataclass(frozen=True)
class OptimumReport:
    """Where a fitted weight vector sits relative to the radius of convergence (chapter 4).

    ``fraction_outside``: share of examples with at least one mask outside the radius (exact,
    closed form); ``fraction_every_delta``: share outside for every dropout rate
    (:func:`delta_free_ratio`); ``mass``: :class:`OutsideMass`; ``worst_ratio`` and
    ``median_ratio`` of ``max |Delta_i| / rho(z_i)``; ``ball_ratio``: ``||beta_noisy||_2 / t*``
    for the largest admissible L2 ball (:func:`ball_radius`).
    """

    fraction_outside: float
    fraction_every_delta: float
    mass: OutsideMass
    worst_ratio: float
    median_ratio: float
    ball_ratio: float


def optimum_report(
    X: ArrayLike,
    beta: ArrayLike,
    delta: float,
    noisy: ArrayLike | None = None,
    rng: np.random.Generator | None = None,
    n_samples: int = 1024,
) -> OptimumReport:
    """Collect the measures of :class:`OptimumReport` for weights ``beta`` under dropout ``delta``."""
    X, beta = _validate.design(X, beta)
    keep = _validate.feature_mask(noisy, X.shape[1])
    ratio = perturbation_ratio(X, beta, delta, keep)
    mass = mass_outside(X, beta, Dropout(delta, noisy=keep), rng=rng, n_samples=n_samples)
    return OptimumReport(
        fraction_outside=float(np.mean(ratio >= 1)),
        fraction_every_delta=float(np.mean(delta_free_ratio(X, beta, keep) >= 1)),
        mass=mass,
        worst_ratio=float(ratio.max()),
        median_ratio=float(np.median(ratio)),
        ball_ratio=float(np.linalg.norm(beta[keep]) / ball_radius(X, delta, 2, keep)),
    )


def plot_admissible_region(ax, x: ArrayLike, delta: float, extent: float = 6.0, n_grid: int = 301) -> None:
    """Draw the admissible region of one two-feature example ``x`` in the weight plane, with
    the largest L1, L2 and L-infinity balls inside it (chapter 4, ``fig-region``).

    Shaded: weights whose every dropout atom lies inside the radius (:func:`admissible_grid`);
    black line: its boundary (ratio 1); coloured: the balls of radius :func:`ball_radius`.
    """
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Circle, Polygon

    from .plotting import PALETTE

    x = _validate.finite_array(x, "x", ndim=1)
    if x.shape != (2,):
        raise ValueError(f"x must have 2 features to be drawn, got {x.shape[0]}")
    grid = np.linspace(-extent, extent, n_grid)
    b1, b2 = np.meshgrid(grid, grid)
    ratio = admissible_grid(x, np.stack([b1, b2], axis=-1), delta)
    shade = np.zeros(ratio.shape + (4,))  # RGBA image: the palette colour, translucent, inside only
    shade[ratio < 1.0] = (*to_rgb(PALETTE[2]), 0.35)
    ax.imshow(shade, extent=(-extent, extent, -extent, extent), origin="lower", interpolation="nearest")
    ax.contour(b1, b2, ratio, levels=[1.0], colors=[PALETTE[0]], linewidths=1.2)
    t1, t2, ti = (ball_radius(x[None], delta, q) for q in (1, 2, np.inf))
    ax.add_patch(Polygon([(t1, 0), (0, t1), (-t1, 0), (0, -t1)], fill=False, ec=PALETTE[1], lw=1.6,
                         label=r"largest $L_1$ ball"))
    ax.add_patch(Circle((0, 0), t2, fill=False, ec=PALETTE[5], lw=1.6, label=r"largest $L_2$ ball"))
    ax.add_patch(Polygon([(ti, ti), (-ti, ti), (-ti, -ti), (ti, -ti)], fill=False, ec=PALETTE[6], lw=1.6,
                         label=r"largest $L_\infty$ ball"))
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel(r"weight $\beta_1$")
    ax.set_ylabel(r"weight $\beta_2$")
    ax.set_title(rf"$\delta = {delta:g}$")


def plot_sorted_ratios(ax, ratios: dict[float, ArrayLike]) -> None:
    """Draw, for each dropout rate, the per-example ratios ``max |Delta_i| / rho(z_i)`` sorted in
    decreasing order against the share of examples, on a log axis with the line ratio = 1
    (chapter 4, ``fig-real-ratios``): examples above the line have masks outside the radius."""
    from matplotlib.ticker import NullFormatter

    from .plotting import PALETTE

    colours = (PALETTE[1], PALETTE[2], PALETTE[3], PALETTE[6], PALETTE[5], PALETTE[7])
    for colour, (delta, ratio) in zip(colours, ratios.items(), strict=False):
        ratio = np.sort(_validate.finite_array(ratio, "ratio", ndim=1))[::-1]
        share = np.arange(1, ratio.size + 1) / ratio.size
        ax.plot(share, ratio, color=colour, label=rf"$\delta = {delta:g}$")
    ax.axhline(1, color=PALETTE[0], ls="--", lw=1)
    ax.set_yscale("log")
    ticks = [0.5, 0.7, 1, 1.5, 2, 3, 4, 6, 8]
    ax.set_yticks(ticks, labels=[f"{t:g}" for t in ticks])
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("share of training examples (sorted by ratio)")
    ax.set_ylabel(r"$\max|\Delta_i| / \rho(z_i)$ (dimensionless)")
    ax.legend()


def plot_outside_mass(ax, deltas: Sequence[float], masses: dict[str, Sequence[OutsideMass]]) -> None:
    """Draw the mean mass of masks outside the radius against the dropout rate, one series of
    :class:`OutsideMass` per fit with its confidence interval as error bars, on a log axis
    (chapter 4, ``fig-real-ratios``, right panel). Keys ``"Rq"`` and ``"L2"`` get TeX labels."""
    from .plotting import PALETTE

    deltas = [_validate.rate(delta) for delta in deltas]
    labels = {"Rq": r"$R^q$", "L2": r"matched $L_2$"}
    styles = zip(("o", "s", "^", "D", "v"), PALETTE[5:], strict=False)
    for (name, mass), (marker, colour) in zip(masses.items(), styles, strict=False):
        if len(mass) != len(deltas):
            raise ValueError(f"masses[{name!r}] must have one entry per rate, got {len(mass)}")
        mean = np.array([m.mean for m in mass])
        err = np.array([mean - [m.low for m in mass], [m.high for m in mass] - mean])
        ax.errorbar(deltas, mean, yerr=err, marker=marker, color=colour, capsize=3,
                    label=labels.get(name, name))
    ax.set(yscale="log", xlabel=r"dropout rate $\delta$", xticks=deltas,
           ylabel="mass of masks outside the radius (probability)")
    ax.legend()

"""The error of the quadratic approximation R^q: where it is small, its sign, and its limits.

Chapter 2 compares ``R^q = 1/2 sum_i A''(z_i) Var Delta_i`` (Wager, Wang & Liang 2013) with
the exact penalty ``R = sum_i E A(z_i + Delta_i) - A(z_i)``. This module holds:

* the exact penalty at a scaled noise amplitude and the two Taylor coefficients read off it
  (:func:`amplitude_regularizer`, :func:`amplitude_curvature`,
  :func:`amplitude_odd_coefficient`; theorems ``thm-quadratic`` and ``thm-dropout-sign``);
* one example with an intercept that is never dropped (:func:`single_example`) and the random
  test problems of the chapter's checks (:func:`random_problem`,
  :func:`random_dropout_example`);
* the error terms and limits: small Gaussian noise (:func:`gaussian_fourth_order_term`),
  small contributions under dropout (:func:`dropout_third_order_term`), small scores
  (:func:`small_score_bracket`, :func:`small_score_threshold`, :func:`exact_sign_change`),
  small rates (:func:`small_rate_ratio`) and confident examples
  (:func:`gaussian_confident_ratio`);
* the relative-error maps of figure ``fig-relative-error``, the table under it and the sign
  rules read off them (:func:`dropout_relative_error`, :func:`gaussian_relative_error`,
  :func:`relative_error_table`, :func:`sign_changes`, :func:`overestimate_crossover`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from . import _validate
from .closed_forms import (
    MAX_EQUAL_FEATURES,
    equal_contributions_quadratic,
    equal_contributions_regularizer,
    gaussian_regularizer,
)
from .logpartition import LogPartition, logistic
from .noise import AdditiveGaussian, Dropout, MultiplicativeGaussian, NoiseModel
from .quadrature import gauss_hermite_expectation

# --- the exact penalty at a scaled amplitude ---------------------------------------------------


def amplitude_regularizer(
    X: ArrayLike,
    beta: ArrayLike,
    noise: NoiseModel,
    t: float,
    A: LogPartition = logistic,
    per_example: bool = False,
) -> NDArray[np.float64] | float:
    """``R_t = sum_i E A(z_i + t Delta_i) - A(z_i)``: the exact penalty with the score
    perturbation scaled by an amplitude ``t`` (any finite real, the clean scores kept).

    Dropout: all ``2^d`` atoms of ``Delta_i`` enumerated; Gaussian models: Gauss-Hermite with
    standard deviation ``|t| s_i``. Since ``E Delta = 0``, ``R_t = t^2 R^q + O(t^3)``
    (chapter 2, theorem ``thm-quadratic``: R^q is the curvature of R at zero noise).
    """
    t = _validate.real(t, "t")
    z = noise.scores(X, beta)
    if isinstance(noise, Dropout):
        atoms, prob = noise.atoms(X, beta)
        values = A(z[:, None] + t * atoms) @ prob - A(z)
    else:
        std = abs(t) * np.sqrt(noise.perturbation_variance(X, beta))
        values = gauss_hermite_expectation(A, z, std) - A(z)
    return values if per_example else float(np.sum(values))


def amplitude_curvature(
    X: ArrayLike, beta: ArrayLike, noise: NoiseModel, h: float = 1e-3, A: LogPartition = logistic
) -> float:
    """Half the curvature of the exact penalty in the amplitude at ``t = 0``, by a symmetric
    second difference: ``(R_h + R_{-h}) / (2 h^2)`` (``R_0 = 0``).

    Tends to ``R^q`` as ``h -> 0`` with an ``O(h^2)`` error (chapter 2, theorem
    ``thm-quadratic``, part 2: ``R^q = lim R_t / t^2``).
    """
    h = _validate.real(h, "h")
    if h <= 0:
        raise ValueError(f"h must be > 0, got {h}")
    plus = amplitude_regularizer(X, beta, noise, h, A)
    return (plus + amplitude_regularizer(X, beta, noise, -h, A)) / (2 * h**2)


def amplitude_odd_coefficient(
    X: ArrayLike, beta: ArrayLike, noise: NoiseModel, t: float = 3e-3, A: LogPartition = logistic
) -> float:
    """The odd part of the exact penalty in the amplitude, over ``t^3``:
    ``(R_t - R_{-t}) / (2 t^3)``.

    The even Taylor terms (``t^2 R^q``, the quartic term) cancel, so this tends to the cubic
    coefficient ``1/6 sum_i A'''(z_i) E Delta_i^3`` with an ``O(t^2)`` error (chapter 2,
    theorem ``thm-dropout-sign``, part 1; compare :func:`dropout_third_order_term`).
    """
    t = _validate.real(t, "t")
    if t <= 0:
        raise ValueError(f"t must be > 0, got {t}")
    plus = amplitude_regularizer(X, beta, noise, t, A)
    return (plus - amplitude_regularizer(X, beta, noise, -t, A)) / (2 * t**3)


# --- test problems -----------------------------------------------------------------------------


def single_example(
    z: float, contributions: ArrayLike, delta: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], Dropout]:
    """One example with clean score ``z`` whose dropped contributions are ``a_1, ..., a_d``:
    ``X = (1, ..., 1)``, ``beta = (z - sum_j a_j, a_1, ..., a_d)`` and dropout of rate ``delta``
    on every feature but the first, an intercept that carries the rest of ``z``.

    Returns ``(X, beta, noise)`` for :func:`dropout_taylor.exact_regularizer` and friends
    (chapter 2, theorems ``thm-small-rate`` and ``thm-dropout-sign``, the explorer).
    """
    z = _validate.real(z, "z")
    a = _validate.finite_array(contributions, "contributions", ndim=1)
    if a.size < 1:
        raise ValueError("contributions must hold at least one value")
    X = np.ones((1, a.size + 1))
    beta = np.concatenate([[z - a.sum()], a])
    return X, beta, Dropout(_validate.rate(delta), noisy=np.arange(a.size + 1) > 0)


def random_problem(seed: int) -> tuple[NDArray[np.float64], NDArray[np.float64], NoiseModel]:
    """A random logistic problem for the Lagrange-bound check of chapter 2 (theorem
    ``thm-quadratic``, part 2): four examples, ``d`` in 1..7 features, ``beta ~ N(0, 4 I)``,
    and the noise model ``seed % 3`` (dropout, additive, multiplicative Gaussian) with a
    random rate or scale. Deterministic in ``seed``; returns ``(X, beta, noise)``."""
    seed = _validate.order(seed, "seed")
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 8))
    X, beta = rng.normal(size=(4, d)), 2 * rng.normal(size=d)
    noise = [
        Dropout(rng.uniform(0.01, 0.95)),
        AdditiveGaussian(rng.uniform(0.05, 3)),
        MultiplicativeGaussian(rng.uniform(0.01, 0.95)),
    ][seed % 3]
    return X, beta, noise


def random_dropout_example(seed: int) -> tuple[float, NDArray[np.float64], float]:
    """A random example for the third-order check of chapter 2 (theorem ``thm-dropout-sign``,
    part 1): ``d`` in 1..6 contributions ``a_j ~ N(0, 1)``, score ``z ~ U(-4, 4)``, rate
    ``delta ~ U(0.05, 0.9)``. Deterministic in ``seed``; returns ``(z, a, delta)``, the
    arguments of :func:`single_example`."""
    seed = _validate.order(seed, "seed")
    rng = np.random.default_rng(seed)
    d, z = int(rng.integers(1, 7)), float(rng.uniform(-4, 4))
    a, delta = rng.normal(size=d), float(rng.uniform(0.05, 0.9))
    return z, a, delta


# --- error terms and limits --------------------------------------------------------------------


def gaussian_fourth_order_term(z: ArrayLike, s: ArrayLike) -> NDArray[np.float64]:
    """Leading small-noise term of ``R - R^q`` under a ``N(0, s^2)`` score perturbation,
    logistic: ``A''''(z) E Delta^4 / 24 = A''''(z) s^4 / 8`` (chapter 2, theorem
    ``thm-gauss-small``).

    ``A'''' = p(1-p)(1 - 6 p(1-p))`` is negative for ``|z| < log((3 + sqrt 3)/(3 - sqrt 3))``
    (about 1.317), where ``R^q`` therefore overestimates at small noise, and positive beyond.
    """
    z = _validate.finite_array(z, "z")
    s = _validate.finite_array(s, "s")
    return logistic.derivative(z, 4) * s**4 / 8.0


def gaussian_quadratic_error(z: ArrayLike, s: ArrayLike) -> NDArray[np.float64]:
    """``R^q - R`` for one logistic example under a ``N(0, s^2)`` score perturbation:
    ``1/2 A''(z) s^2 - (E A(z + s xi) - A(z))``, with R from :func:`gaussian_regularizer`
    (chapter 2, theorem ``thm-gauss-small``). ``z`` and ``s`` broadcast."""
    z = _validate.finite_array(z, "z")
    s = _validate.finite_array(s, "s")
    return 0.5 * logistic.derivative(z, 2) * s**2 - gaussian_regularizer(z, s)


def dropout_third_order_term(z: float, contributions: ArrayLike, delta: float) -> float:
    """The cubic Taylor term of the logistic dropout penalty of one example:
    ``1/6 A'''(z) E Delta^3 = 1/6 A'''(z) delta (r^2 - 1) sum_j a_j^3``, ``r = delta/(1-delta)``
    (chapter 2, theorem ``thm-dropout-sign``, part 1). ``E u^3 = delta (r^2 - 1)`` is the third
    moment of ``u = r`` (kept) or ``-1`` (dropped); its sign is that of ``1/2 - delta``."""
    z = _validate.real(z, "z")
    a = _validate.finite_array(contributions, "contributions", ndim=1)
    delta = _validate.rate(delta)
    r = delta / (1.0 - delta)
    return float(logistic.derivative(z, 3)) * delta * (r**2 - 1.0) * float(np.sum(a**3)) / 6.0


def equal_split_quadratic_error(z: ArrayLike, d: int, delta: float) -> NDArray[np.float64]:
    """``R^q - R`` for one logistic example whose whole score ``z`` is split into ``d`` equal
    dropped contributions ``z / d`` (exact R: the binomial sum of
    :func:`equal_contributions_regularizer`; chapter 2, theorem ``thm-dropout-sign``, part 2,
    and figure ``fig-relative-error``)."""
    z = _validate.finite_array(z, "z")
    quadratic = equal_contributions_quadratic(z, z / d, d, delta)
    return quadratic - equal_contributions_regularizer(z, z / d, d, delta)


def small_score_bracket(delta: ArrayLike, d: int) -> NDArray[np.float64]:
    """``B(delta, d) = 4 d delta (r^2 - 1) + delta (1 + r^3) + 3 (d - 1) r^2``,
    ``r = delta / (1 - delta)``.

    For ``d`` equal contributions ``a = z/d`` and logistic ``A``,
    ``R^q - R = z^4 B(delta, d) / (192 d^3) + O(z^6)`` as ``z -> 0`` (chapter 2, theorem
    ``thm-dropout-sign``, part 2): the sign of the error for nearly undecided examples is the
    sign of B.
    """
    d = _validate.order(d, "d", high=MAX_EQUAL_FEATURES, low=1)
    delta = _validate.finite_array(delta, "delta")
    if np.any((delta < 0) | (delta >= 1)):
        raise ValueError("delta must lie in [0, 1)")
    r = delta / (1.0 - delta)
    return 4 * d * delta * (r**2 - 1) + delta * (1 + r**3) + 3 * (d - 1) * r**2


def small_score_threshold(d: int) -> float:
    """``delta*(d)``: the root of :func:`small_score_bracket` in ``(0, 1/2)``, above which the
    quadratic approximation overestimates the dropout penalty of a nearly undecided example
    with ``d`` equal contributions (chapter 2, theorem ``thm-dropout-sign``, part 2).

    ``B < 0`` for small ``delta`` (``B ~ -4 d delta``) and ``B(1/2) = 3 d - 2 > 0``; Brent's
    method on ``[1e-3, 1/2]`` to ``1e-14``.
    """
    d = _validate.order(d, "d", high=MAX_EQUAL_FEATURES, low=1)
    return float(optimize.brentq(lambda dl: float(small_score_bracket(dl, d)), 1e-3, 0.5, xtol=1e-14))


def exact_sign_change(d: int, z: float = 0.02, bracket: tuple[float, float] = (0.05, 0.5)) -> float:
    """The dropout rate at which the exact error ``R^q - R`` of one logistic example (score
    ``z``, ``d`` equal dropped contributions ``z/d``) changes sign, by Brent's method on the
    binomial sum (chapter 2, theorem ``thm-dropout-sign``, part 2: tends to
    :func:`small_score_threshold` as ``z -> 0``). ``bracket`` must contain one sign change."""
    z = _validate.real(z, "z")
    if z == 0:
        raise ValueError("z must be nonzero (the error vanishes identically at z = 0)")
    low, high = (_validate.rate(b, "bracket") for b in bracket)

    def gap(delta: float) -> float:
        return float(equal_split_quadratic_error(z, d, delta)) / z**4

    if not low < high or gap(low) * gap(high) >= 0:
        raise ValueError(f"bracket must contain a sign change of R^q - R, got {bracket}")
    return float(optimize.brentq(gap, low, high, xtol=1e-12))


def small_rate_ratio(
    z: ArrayLike, contributions: ArrayLike, A: LogPartition = logistic
) -> NDArray[np.float64]:
    """``lim_{delta -> 0} R / R^q`` for dropout on one example (chapter 2, theorem
    ``thm-small-rate``):

        sum_j [A(z - a_j) - A(z) + a_j A'(z)]  /  (1/2 A''(z) sum_j a_j^2),

    a sum of Bregman divergences of ``A`` over the masks that drop one feature, against its
    quadratic model. It equals 1 only when ``A`` is quadratic over ``[z - max|a_j|, z + max|a_j|]``.
    ``contributions`` has shape ``(..., d)`` and ``z`` broadcasts against its leading axes.
    """
    a = _validate.finite_array(contributions, "contributions")
    if a.ndim < 1 or a.shape[-1] < 1:
        raise ValueError("contributions must have a last axis of length d >= 1")
    if np.any(np.sum(a**2, axis=-1) == 0):
        raise ValueError("contributions must not all be zero (R^q would vanish)")
    z = _validate.finite_array(z, "z")
    bregman = A(z[..., None] - a) - A(z)[..., None] + a * A.derivative(z, 1)[..., None]
    return np.sum(bregman, axis=-1) / (0.5 * A.derivative(z, 2) * np.sum(a**2, axis=-1))


def gaussian_confident_ratio(s: ArrayLike) -> NDArray[np.float64]:
    """``lim_{z -> +-inf} R^q / R = (s^2/2) / (e^{s^2/2} - 1)`` for logistic regression under a
    ``N(0, s^2)`` score perturbation (chapter 2, theorem ``thm-confident-limits``): the Poisson
    ratio, because ``A(z) = |z| + e^{-|z|} + ...`` far from 0. Equals 1 at ``s = 0`` (limit)."""
    s = _validate.finite_array(s, "s")
    half = s**2 / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(half > 0, half / np.expm1(np.where(half > 0, half, 1.0)), 1.0)


# --- relative-error maps and what is read off them ---------------------------------------------


def dropout_relative_error(z: ArrayLike, deltas: ArrayLike, d: int) -> NDArray[np.float64]:
    """``(R^q - R) / R`` for one example with ``d`` equal dropout contributions ``a = z / d``
    (the whole score is dropped feature by feature), on the grid ``deltas x z``: shape
    ``(len(deltas), len(z))`` (chapter 2, figure ``fig-relative-error``). ``z`` must be nonzero."""
    z = _validate.finite_array(z, "z", ndim=1)
    if np.any(z == 0):
        raise ValueError("z must be nonzero (R = R^q = 0 at z = 0 with a = z/d)")
    rows = []
    for delta in _validate.finite_array(deltas, "deltas", ndim=1):
        exact = equal_contributions_regularizer(z, z / d, d, float(delta))
        rows.append(equal_contributions_quadratic(z, z / d, d, float(delta)) / exact - 1.0)
    return np.array(rows)


def gaussian_relative_error(z: ArrayLike, s: ArrayLike) -> NDArray[np.float64]:
    """``(R^q - R) / R`` for a ``N(0, s^2)`` score perturbation, logistic, on the grid
    ``s x z``: shape ``(len(s), len(z))`` (chapter 2, figure ``fig-relative-error``)."""
    z = _validate.finite_array(z, "z", ndim=1)
    s = _validate.finite_array(s, "s", ndim=1)
    if np.any(s <= 0):
        raise ValueError("s must be > 0")
    exact = gaussian_regularizer(z[None, :], s[:, None])
    return 0.5 * logistic.derivative(z, 2)[None, :] * s[:, None] ** 2 / exact - 1.0


def sign_changes(values: ArrayLike) -> int:
    """Number of sign changes along a 1-d array (zeros count as a sign of their own); used on
    the rows of the relative-error maps (chapter 2, figure ``fig-relative-error``)."""
    values = _validate.finite_array(values, "values", ndim=1)
    return int(np.count_nonzero(np.diff(np.sign(values))))


def overestimate_crossover(z: ArrayLike, errors: ArrayLike) -> float:
    """The last score ``z_k`` at which ``errors_k > 0`` (``R^q`` overestimates), or 0 if it
    never does: the crossover from over- to underestimation along one row of a relative-error
    map (chapter 2, figure ``fig-relative-error``). ``z`` and ``errors`` are 1-d, same length."""
    z = _validate.finite_array(z, "z", ndim=1)
    errors = _validate.finite_array(errors, "errors", ndim=1)
    if z.shape != errors.shape:
        raise ValueError(f"z and errors must have the same length, got {z.size} and {errors.size}")
    over = np.flatnonzero(errors > 0)
    return 0.0 if over.size == 0 else float(z[over[-1]])


def relative_error_table(z: ArrayLike, deltas: list[float], sigmas: list[float], d: int) -> str:
    """A Markdown table of ``(R^q - R) / R`` in percent: one row per score ``z``, one column per
    dropout rate (``d`` equal contributions ``z/d``) and per Gaussian scale ``s`` (chapter 2,
    the table under figure ``fig-relative-error``)."""
    z = _validate.finite_array(z, "z", ndim=1)
    errors = np.vstack(
        [dropout_relative_error(z, deltas, d), gaussian_relative_error(z, np.array(sigmas))]
    )
    header = ["$z$"] + [f"dropout $\\delta={dl:g}$" for dl in deltas]
    header += [f"Gaussian $s={s:g}$" for s in sigmas]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for k, zk in enumerate(z):
        cells = " | ".join(f"{100 * e:+.1f} %" for e in errors[:, k])
        lines.append(f"| {zk:g} | {cells} |")
    return "\n".join(lines)

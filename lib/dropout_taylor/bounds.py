"""How far the quadratic approximation R^q can be from the exact dropout penalty R, and how close.

Chapter 5 measures the error of the second-order truncation without any convergent series:

* the Lagrange bound ``|R - R^q| <= sup|A'''| / 6 * sum_i E|Delta_i|^3`` with
  ``sup|A'''| = 1 / (6 sqrt 3)`` for softplus (theorems ``thm-sup-third`` and ``thm-lagrange``;
  for all three noise models it is also part 2 of chapter 2's ``thm-quadratic``);
* the second-order bound ``-R^q_i <= R_i - R^q_i <= (1/4 - A''(z_i)) Var Delta_i / 2``, from
  ``0 < A'' <= 1/4`` alone;
* the confident-example lower bound ``R_i >= P(mask flips the sign of z_i) (log 2 - H(sigma(z_i)))``
  while ``R^q_i <= e^{-|z_i|} Var Delta_i / 2`` (theorem ``thm-confident``).

The partial sums of the expected series itself are in :mod:`dropout_taylor.series`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from . import _validate
from .noise import (
    MAX_ENUMERATION_FEATURES,
    AdditiveGaussian,
    Dropout,
    MultiplicativeGaussian,
    NoiseModel,
)
from .penalty import _BLOCK_FLOATS, _mask_table, _prepare, _subset_sums

#: ``sup_z |A'''(z)|`` for softplus: ``1 / (6 sqrt 3)``, attained at ``z = +-log(2 + sqrt 3)``.
SUP_THIRD_DERIVATIVE = 1.0 / (6.0 * math.sqrt(3.0))

#: Where ``|A'''|`` is largest: ``z* = log(2 + sqrt 3) = arccosh 2``, so ``sigma(z*) = 1/2 + 1/(2 sqrt 3)``.
ARGMAX_THIRD_DERIVATIVE = math.log(2.0 + math.sqrt(3.0))


def perturbation_moments(
    X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> dict[str, NDArray[np.float64]]:
    """Exact ``E|Delta_i|^3``, the flip probability and ``Var Delta_i`` by enumerating the masks.

    ``Delta_i(m) = sum_{j noisy} a_ij (m_j / (1 - delta) - 1)``; the flip probability is
    ``P(s_i(m) <= 0 < z_i or s_i(m) >= 0 > z_i)`` with ``s_i = z_i + Delta_i`` (0 when z_i = 0).
    Keys: ``"abs3"``, ``"flip"``, ``"var"``. Needs at most ``MAX_ENUMERATION_FEATURES`` noisy features.
    """
    X, beta, a, keep, delta = _prepare(X, beta, delta, noisy)
    n, d = a.shape
    if d > MAX_ENUMERATION_FEATURES:
        raise ValueError(
            f"X has {d} noisy features: enumeration needs d in [0, {MAX_ENUMERATION_FEATURES}]"
        )
    z = X @ beta
    base = X[:, ~keep] @ beta[~keep]
    prob, _ = _mask_table(d, delta)
    rows = max(1, _BLOCK_FLOATS >> d) if d <= 16 else 1
    abs3, flip = np.zeros(n), np.zeros(n)
    for start in range(0, n, rows):
        sl = slice(start, min(n, start + rows))
        zs = z[sl, None]
        s = base[sl, None] + _subset_sums(
            a[sl] / (1.0 - delta)
        )  # the masked scores, directly
        abs3[sl] = np.abs(s - zs) ** 3 @ prob
        flip[sl] = (((s <= 0) & (zs > 0)) | ((s >= 0) & (zs < 0))) @ prob
    var = delta / (1.0 - delta) * np.sum(a**2, axis=1)
    return {"abs3": abs3, "flip": flip, "var": var}


def fourth_moment(
    X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Closed-form ``E Delta_i^4 = (mu4 - 3 r^2) sum_j a_ij^4 + 3 r^2 (sum_j a_ij^2)^2``.

    Each ``u_j`` is ``-1`` (prob. delta) or ``r = delta/(1-delta)`` (prob. 1 - delta): mean 0,
    ``E u^2 = r``, ``mu4 = E u^4 = delta + (1 - delta) r^4``; independence does the rest. Used for
    the Lyapunov bound ``E|Delta|^3 <= (E Delta^4)^{3/4}`` when d is too large to enumerate.
    """
    _, _, a, _, delta = _prepare(X, beta, delta, noisy)
    r = delta / (1.0 - delta)
    mu4 = delta + (1.0 - delta) * r**4
    s2 = np.sum(a**2, axis=1)
    return (mu4 - 3 * r**2) * np.sum(a**4, axis=1) + 3 * r**2 * s2**2


def third_absolute_moment(
    X: ArrayLike,
    beta: ArrayLike,
    noise: float | NoiseModel,
    noisy: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """``E|Delta_i|^3`` per example, or an upper bound on it, for any noise model of the book.

    ``noise`` is a dropout rate (with ``noisy`` the dropped features) or a noise model of
    :mod:`dropout_taylor.noise`. Dropout: exact by enumeration for at most
    ``MAX_ENUMERATION_FEATURES`` noisy features, otherwise the larger ``(E Delta_i^4)^{3/4}``
    (Lyapunov). Gaussian models: ``E|N(0, s^2)|^3 = 2 sqrt(2/pi) s^3`` with
    ``s^2 = Var Delta_i``. Used by :func:`lagrange_bound`.
    """
    if isinstance(noise, AdditiveGaussian | MultiplicativeGaussian | Dropout):
        if noisy is not None:
            raise ValueError(
                "noisy must be None when noise is a noise model (it has its own)"
            )
        if not isinstance(noise, Dropout):
            return (
                2.0
                * math.sqrt(2.0 / math.pi)
                * noise.perturbation_variance(X, beta) ** 1.5
            )
        noise, noisy = noise.delta, noise.noisy
    _, _, a, _, _ = _prepare(X, beta, noise, noisy)
    if a.shape[1] <= MAX_ENUMERATION_FEATURES:
        return perturbation_moments(X, beta, noise, noisy)["abs3"]
    return fourth_moment(X, beta, noise, noisy) ** 0.75


def lagrange_bound(
    X: ArrayLike,
    beta: ArrayLike,
    noise: float | NoiseModel,
    noisy: ArrayLike | None = None,
    per_example: bool = False,
) -> float | NDArray[np.float64]:
    """``sup|A'''| / 6 * E|Delta_i|^3`` per example (or summed): a bound on ``|R_i - R^q_i|``
    for logistic regression, ``sup|A'''| = 1 / (6 sqrt 3)``.

    Chapter 2 (theorem ``thm-quadratic``, part 2, all three noise models) and chapter 5
    (theorem ``thm-lagrange``). ``noise`` is a dropout rate (``noisy``: the dropped
    features, default all) or a noise model; ``E|Delta_i|^3`` comes from
    :func:`third_absolute_moment`, so the bound is valid for every number of features.
    """
    b = SUP_THIRD_DERIVATIVE / 6.0 * third_absolute_moment(X, beta, noise, noisy)
    return b if per_example else float(np.sum(b))


def second_order_bounds(
    X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-example interval ``[-R^q_i, (1/4 - A''(z_i)) Var Delta_i / 2]`` that holds ``R_i - R^q_i``.

    From ``R_i - R^q_i = E int_0^Delta (Delta - t) (A''(z_i + t) - A''(z_i)) dt`` and
    ``0 < A'' <= 1/4`` (chapter 5, remark after ``thm-lagrange``).
    """
    X, beta, a, _, delta = _prepare(X, beta, delta, noisy)
    z = X @ beta
    w = special.expit(z) * special.expit(-z)
    var = delta / (1.0 - delta) * np.sum(a**2, axis=1)
    return -0.5 * w * var, 0.5 * (0.25 - w) * var


def binary_entropy_of_score(z: ArrayLike) -> NDArray[np.float64]:
    """``H(sigma(z))`` in nats, ``= A(z) - z sigma(z)``, computed stably as
    ``log(1 + e^{-|z|}) + |z| sigma(-|z|)`` (equal because H is even in z)."""
    z = np.abs(_validate.finite_array(z, "z"))
    return np.log1p(np.exp(-z)) + z * special.expit(-z)


def confident_lower_bound(
    X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Per-example lower bound ``R_i >= P(flip_i) (log 2 - H(sigma(z_i)))`` (theorem ``thm-confident``).

    Every mask that moves the score across zero costs at least ``log 2 - H(sigma(z_i))`` in the
    Bregman divergence of softplus, which tends to ``log 2`` as ``|z_i|`` grows.
    """
    X, beta = _validate.design(X, beta)
    flip = perturbation_moments(X, beta, delta, noisy)["flip"]
    return flip * (math.log(2.0) - binary_entropy_of_score(X @ beta))


def error_and_bounds(
    X: ArrayLike,
    beta: ArrayLike,
    delta: float,
    scales: ArrayLike,
    noisy: ArrayLike | None = None,
) -> dict[str, NDArray[np.float64]]:
    """The true error ``|R - R^q|`` and its two bounds along the ray ``t beta``, t in ``scales``.

    Keys: ``"error"`` (``|R - R^q|``, exact by enumeration), ``"lagrange"`` (theorem
    ``thm-lagrange``), ``"second_order"`` (``sum_i max(R^q_i, (1/4 - A''(z_i)) Var Delta_i / 2)``,
    the bound from ``0 < A'' <= 1/4``), ``"R"`` and ``"Rq"``. Chapter 5, figure ``fig-bound``.
    """
    from .penalty import exact_penalty, quadratic_penalty_and_grad

    scales = _validate.finite_array(scales, "scales", ndim=1)
    beta = _validate.finite_array(beta, "beta", ndim=1)
    out: dict[str, list[float]] = {
        k: [] for k in ("error", "lagrange", "second_order", "R", "Rq")
    }
    for t in scales:
        b = t * beta
        R = exact_penalty(X, b, delta, noisy)
        Rq, _ = quadratic_penalty_and_grad(X, b, delta, noisy)
        lo, hi = second_order_bounds(X, b, delta, noisy)
        out["error"].append(abs(R - Rq))
        out["lagrange"].append(lagrange_bound(X, b, delta, noisy))
        out["second_order"].append(float(np.sum(np.maximum(-lo, hi))))
        out["R"].append(R)
        out["Rq"].append(Rq)
    return {k: np.array(v) for k, v in out.items()}

"""The exact dropout penalty of logistic regression, fast: mask enumeration and Monte Carlo.

For dropout with rate ``delta`` on the noisy features of an example ``x_i``, the score under the
keep-mask ``m`` is ``s_i(m) = b_i + sum_{j noisy} m_j x_ij beta_j / (1 - delta)``, where ``b_i``
is the clean (undropped, e.g. intercept) part of ``z_i = x_i . beta``. The exact penalty is

    R(beta) = sum_i sum_m P(m) A(s_i(m)) - A(z_i),   P(m) = (1 - delta)^{|m|} delta^{d - |m|},

with ``A`` = softplus (chapter 1, theorem ``thm-split``; chapter 5 uses it to measure the error of
``R^q``). Two engines:

* :func:`exact_penalty` / :func:`exact_penalty_and_grad` enumerate all ``2^d`` masks (``d`` up to
  ``MAX_ENUMERATION_FEATURES``). The scores of all masks are built by *incremental subset sums*:
  the noisy features are split into ``k`` low and ``d - k`` high ones; the ``2^k`` low subset sums
  come from doubling (``L[:, 2^j:2^{j+1}] = L[:, :2^j] + c_j``), one addition per (example, mask),
  the same cost as a Gray-code walk but vectorised. Each high subset adds one column. Softplus
  and the sigmoid share one ``exp``; the probability-weighted sums are BLAS products with the
  factorised mask probabilities ``P(m) = P_low(m_low) P_high(m_high)``. Memory stays bounded by
  blocks of ``_BLOCK_FLOATS`` numbers for any ``n``.
* :func:`mc_penalty` estimates ``R`` for any ``d`` by sampling independent masks per example, with
  the per-mask Taylor terms ``A'(z_i) Delta + A''(z_i)/2 Delta^2`` (whose mean is exactly
  ``R^q_i``) as control variates, and returns the estimate with its standard error;
  :func:`mc_replicates` summarises independent runs (chapter 5 checks unbiasedness with it).

Training with these engines (exact and Monte Carlo dropout fits, the comparison with ``R^q``
and L2) is in :mod:`dropout_taylor.training`; the error bounds are in
:mod:`dropout_taylor.bounds`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from . import _validate
from .noise import MAX_ENUMERATION_FEATURES

#: Numbers per working block (score matrix of one block of examples by the low masks).
_BLOCK_FLOATS = 1 << 16

#: Largest number of "low" features whose subset sums are built by doubling inside one block.
_LOW_FEATURES = 12

_CONTROLS = ("none", "taylor", "fitted")


def _prepare(
    X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.bool_],
    float,
]:
    """Check the input and return (X, beta, a, keep, delta): ``a`` holds the noisy contributions."""
    X, beta = _validate.design(X, beta)
    delta = _validate.rate(delta)
    keep = _validate.feature_mask(noisy, X.shape[1])
    return X, beta, (X * beta)[:, keep], keep, delta


def _subset_sums(c: NDArray[np.float64]) -> NDArray[np.float64]:
    """All ``2^k`` subset sums of the columns of ``c`` (n, k), in the order of
    :func:`dropout_taylor.noise.enumerate_masks` (bit j of the column index = feature j kept)."""
    n, k = c.shape
    out = np.empty((n, 1 << k))
    out[:, 0] = 0.0
    for j in range(k):
        h = 1 << j
        np.add(out[:, :h], c[:, j : j + 1], out=out[:, h : 2 * h])
    return out


def _mask_table(
    k: int, delta: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Probabilities ``P(m)`` (2^k,) and keep-indicators (2^k, k) of all masks of k features."""
    prob = np.ones(1)
    for _ in range(k):
        prob = np.concatenate([prob * delta, prob * (1.0 - delta)])
    bits = ((np.arange(1 << k)[:, None] >> np.arange(k)) & 1).astype(float)
    return prob, bits


def _enumerate(
    X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None, grad: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Per-example ``E A(s_i)`` and, if ``grad``, ``d/d beta`` of ``sum_i E A(s_i)``."""
    X, beta, a, keep, delta = _prepare(X, beta, delta, noisy)
    n, d = a.shape
    if d > MAX_ENUMERATION_FEATURES:
        raise ValueError(
            f"X has {d} noisy features: exact enumeration needs d in [0, {MAX_ENUMERATION_FEATURES}];"
            " use mc_penalty above that"
        )
    scale = 1.0 / (1.0 - delta)
    c = a * scale  # a kept feature adds c_ij = x_ij beta_j / (1 - delta)
    base = X[:, ~keep] @ beta[~keep]  # the clean part b_i of the score
    k = min(d, _LOW_FEATURES)
    p_low, bits_low = _mask_table(k, delta)
    p_high, bits_high = _mask_table(d - k, delta)
    pm_low = p_low[:, None] * bits_low  # (2^k, k): P_low(m) m_j
    rows = max(1, _BLOCK_FLOATS >> k)
    mean_a = np.zeros(n)
    e_kept = np.zeros((n, d)) if grad else None  # E[sigma(s_i) m_j]
    e_sig = np.zeros(n) if grad else None  # E[sigma(s_i)]
    for start in range(0, n, rows):
        sl = slice(start, min(n, start + rows))
        low = _subset_sums(c[sl, :k])
        high = _subset_sums(c[sl, k:]) + base[sl, None]
        s = np.empty_like(low)
        e = np.empty_like(low)
        for h in range(len(p_high)):
            np.add(low, high[:, h : h + 1], out=s)
            np.abs(s, out=e)
            np.negative(e, out=e)
            np.exp(e, out=e)  # e = exp(-|s|) in (0, 1]
            if grad:
                sig = np.where(s >= 0, 1.0, e)
                sig /= 1.0 + e  # sigma(score)
            np.log1p(e, out=e)
            np.maximum(s, 0.0, out=s)
            s += e  # s = softplus(score), computed without overflow
            mean_a[sl] += p_high[h] * (s @ p_low)
            if grad:
                tot = sig @ p_low
                e_sig[sl] += p_high[h] * tot
                e_kept[sl, :k] += p_high[h] * (sig @ pm_low)
                if d > k:
                    e_kept[sl, k:] += (p_high[h] * tot)[:, None] * bits_high[h]
    if not grad:
        return mean_a, None
    g = np.empty(X.shape[1])
    g[keep] = scale * np.einsum("ij,ij->j", X[:, keep], e_kept)
    g[~keep] = X[:, ~keep].T @ e_sig
    return mean_a, g


def exact_penalty(
    X: ArrayLike,
    beta: ArrayLike,
    delta: float,
    noisy: ArrayLike | None = None,
    per_example: bool = False,
) -> float | NDArray[np.float64]:
    """Exact dropout penalty ``R(beta) = sum_i E A(s_i(m)) - A(z_i)`` by enumerating all masks.

    Logistic loss (``A`` = softplus), dropout rate ``delta`` on the ``noisy`` features (default:
    all; pass a boolean mask to leave e.g. an intercept column undropped). Agrees with
    :func:`dropout_taylor.exact_regularizer` and is much faster (chapter 5, the exact-penalty
    engine). Cost: one softplus per (example, mask), ``n 2^d`` in all.
    """
    mean_a, _ = _enumerate(X, beta, delta, noisy, grad=False)
    X, beta = _validate.design(X, beta)
    r = mean_a - np.logaddexp(0.0, X @ beta)
    return r if per_example else float(np.sum(r))


def exact_penalty_and_grad(
    X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> tuple[float, NDArray[np.float64]]:
    """``R(beta)`` and its gradient, for use inside an optimiser (chapter 5, exact dropout fits).

    ``dR/dbeta_j = sum_i x_ij (E[sigma(s_i) m_j] / (1 - delta) - sigma(z_i))`` for a noisy
    feature j, and ``sum_i x_ij (E sigma(s_i) - sigma(z_i))`` for a clean one.
    """
    mean_a, g = _enumerate(X, beta, delta, noisy, grad=True)
    X, beta = _validate.design(X, beta)
    z = X @ beta
    return float(np.sum(mean_a - np.logaddexp(0.0, z))), g - X.T @ special.expit(z)


def quadratic_penalty_and_grad(
    X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> tuple[float, NDArray[np.float64]]:
    """``R^q(beta) = r/2 sum_i p_i (1 - p_i) sum_{j noisy} x_ij^2 beta_j^2`` and its gradient.

    ``r = delta / (1 - delta)``, ``p_i = sigma(z_i)``. With ``w_i = p_i (1 - p_i)`` and
    ``v_i = r sum_j a_ij^2``: ``dR^q/dbeta = r sum_i w_i x_i^2 beta (noisy j) +
    1/2 sum_i w_i (1 - 2 p_i) v_i x_i`` (chapter 2's penalty, differentiated for chapter 5).
    """
    X, beta, a, keep, delta = _prepare(X, beta, delta, noisy)
    r = delta / (1.0 - delta)
    z = X @ beta
    p, q = special.expit(z), special.expit(-z)
    w = p * q
    v = r * np.sum(a**2, axis=1)
    g = 0.5 * X.T @ (w * (q - p) * v)
    g[keep] += r * beta[keep] * (w @ X[:, keep] ** 2)
    return float(0.5 * np.sum(w * v)), g


@dataclass(frozen=True)
class MCEstimate:
    """A Monte Carlo estimate of ``R`` with its standard error.

    ``plain_stderr`` is the standard error the plain average of the same draws would have, so
    ``variance_reduction = (plain_stderr / stderr)^2`` is the factor by which the control variate
    cuts the variance (equivalently, the number of plain draws it is worth per draw).
    """

    estimate: float
    stderr: float
    plain_stderr: float
    n_masks: int
    control: str

    @property
    def variance_reduction(self) -> float:
        return (
            float((self.plain_stderr / self.stderr) ** 2)
            if self.stderr > 0
            else float("inf")
        )


def _moments(y: NDArray, c1: NDArray, c2: NDArray) -> NDArray[np.float64]:
    """Per-example raw sums of (1, y, c1, c2) and their pairwise products: shape (n, 10)."""
    return np.stack(
        [
            np.full(y.shape[0], y.shape[1], dtype=float),
            y.sum(1), c1.sum(1), c2.sum(1),
            (y * y).sum(1), (c1 * c1).sum(1), (c2 * c2).sum(1),
            (y * c1).sum(1), (y * c2).sum(1), (c1 * c2).sum(1),
        ],
        axis=1,
    )  # fmt: skip


def _residual(mom: NDArray, b1: NDArray, b2: NDArray) -> tuple[NDArray, NDArray]:
    """Mean and sample variance of ``y - b1 c1 - b2 c2`` per example from raw sums."""
    k, sy, s1, s2, syy, s11, s22, sy1, sy2, s12 = mom.T
    mean = (sy - b1 * s1 - b2 * s2) / k
    second = (
        syy
        + b1**2 * s11
        + b2**2 * s22
        - 2 * b1 * sy1
        - 2 * b2 * sy2
        + 2 * b1 * b2 * s12
    ) / k
    var = np.maximum(second - mean**2, 0.0) * k / np.maximum(k - 1, 1)
    return mean, var


def _fitted_coefficients(mom: NDArray) -> tuple[NDArray, NDArray]:
    """Least-squares coefficients of y on the zero-mean controls (c1, c2), per example."""
    k, sy, s1, s2, syy, s11, s22, sy1, sy2, s12 = mom.T
    m1, m2, my = s1 / k, s2 / k, sy / k
    v11, v22, v12 = s11 / k - m1**2, s22 / k - m2**2, s12 / k - m1 * m2
    cy1, cy2 = sy1 / k - my * m1, sy2 / k - my * m2
    ridge = 1e-12 * (v11 + v22) + 1e-300
    v11, v22 = v11 + ridge, v22 + ridge
    det = v11 * v22 - v12**2
    return (v22 * cy1 - v12 * cy2) / det, (v11 * cy2 - v12 * cy1) / det


def mc_penalty(
    X: ArrayLike,
    beta: ArrayLike,
    delta: float,
    rng: np.random.Generator,
    n_masks: int,
    noisy: ArrayLike | None = None,
    control: str = "fitted",
) -> MCEstimate:
    """Monte Carlo estimate of the dropout penalty ``R(beta)`` with its standard error.

    Each example gets ``n_masks`` independent masks (an even number >= 4). With
    ``Y = A(z_i + Delta) - A(z_i)`` and the zero-mean controls ``C1 = Delta``,
    ``C2 = Delta^2 - Var Delta_i``, the per-example estimate is the mean of
    ``Y - b1 C1 - b2 C2`` (the controls have mean exactly zero):

    * ``control="none"``: ``b = 0``, the plain average;
    * ``control="taylor"``: ``b = (A'(z_i), A''(z_i)/2)``: the per-mask second-order Taylor
      term as control variate, ``estimate = R^q + mean(Y - Taylor term)``;
    * ``control="fitted"`` (default): the variance-minimising ``b`` per example, cross-fitted
      (coefficients from one half of the draws are applied to the other half and vice versa),
      so the estimate stays exactly unbiased.

    Unbiased in all three cases; examples are independent, so the standard error of the sum is
    the root of the summed per-example variances (chapter 5, Monte Carlo for large d).
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            "rng must be a numpy.random.Generator (np.random.default_rng(seed))"
        )
    n_masks = _validate.order(n_masks, "n_masks")
    if n_masks < 4 or n_masks % 2:
        raise ValueError(f"n_masks must be an even integer >= 4, got {n_masks}")
    if control not in _CONTROLS:
        raise ValueError(f"control must be one of {_CONTROLS}, got {control!r}")
    X, beta, a, keep, delta = _prepare(X, beta, delta, noisy)
    n, d = a.shape
    z = X @ beta
    r = delta / (1.0 - delta)
    var_delta = r * np.sum(a**2, axis=1)
    a_z = np.logaddexp(0.0, z)
    half = n_masks // 2
    rows = max(1, _BLOCK_FLOATS // max(1, half * max(d, 1)))
    moments = np.zeros((2, n, 10))
    for start in range(0, n, rows):
        sl = slice(start, min(n, start + rows))
        for part in range(2):
            dropped = rng.random((sl.stop - sl.start, half, d)) < delta
            # Delta = sum_j a_j u_j with u_j = r (kept) or -1 (dropped) = r - (1 + r) [dropped]
            dlt = r * a[sl].sum(1)[:, None] - (1.0 + r) * np.einsum(
                "ikj,ij->ik", dropped, a[sl]
            )
            y = np.logaddexp(0.0, z[sl, None] + dlt) - a_z[sl, None]
            moments[part, sl] = _moments(y, dlt, dlt**2 - var_delta[sl, None])
    both = moments[0] + moments[1]
    zero = np.zeros(n)
    plain_mean, plain_var = _residual(both, zero, zero)
    plain_se = float(np.sqrt(np.sum(plain_var) / n_masks))
    if control == "none":
        return MCEstimate(
            float(np.sum(plain_mean)), plain_se, plain_se, n_masks, control
        )
    if control == "taylor":
        b1, b2 = special.expit(z), 0.5 * special.expit(z) * special.expit(-z)
        mean, var = _residual(both, b1, b2)
        est = np.sum(mean)
        return MCEstimate(
            float(est),
            float(np.sqrt(np.sum(var) / n_masks)),
            plain_se,
            n_masks,
            control,
        )
    est, var_sum = 0.0, 0.0
    for fit, use in ((0, 1), (1, 0)):
        b1, b2 = _fitted_coefficients(moments[fit])
        mean, var = _residual(moments[use], b1, b2)
        est += 0.5 * np.sum(mean)
        var_sum += 0.25 * np.sum(var) / half
    return MCEstimate(float(est), float(np.sqrt(var_sum)), plain_se, n_masks, control)


@dataclass(frozen=True)
class MCReplicates:
    """Summary of independent :func:`mc_penalty` runs: the mean of the estimates, its standard
    error (from the reported standard errors, ``sqrt(mean se^2 / runs)``) and the mean
    variance reduction of the control variate."""

    mean: float
    stderr: float
    variance_reduction: float
    runs: int


def mc_replicates(
    X: ArrayLike,
    beta: ArrayLike,
    delta: float,
    seeds: Sequence[int | Sequence[int]],
    n_masks: int,
    noisy: ArrayLike | None = None,
    control: str = "fitted",
) -> MCReplicates:
    """Run :func:`mc_penalty` once per seed (``np.random.default_rng(seed)``) and summarise.

    Chapter 5 compares ``(mean - R) / stderr`` with the enumerated ``R`` to check that each
    control gives an unbiased estimate, and reports ``variance_reduction``.
    """
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError(f"seeds must hold at least 2 seeds, got {len(seeds)}")
    runs = [
        mc_penalty(X, beta, delta, np.random.default_rng(s), n_masks, noisy, control)
        for s in seeds
    ]
    values = np.array([e.estimate for e in runs])
    stderr = float(np.sqrt(np.mean([e.stderr**2 for e in runs]) / len(runs)))
    reduction = float(np.mean([e.variance_reduction for e in runs]))
    return MCReplicates(float(values.mean()), stderr, reduction, len(runs))

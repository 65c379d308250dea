"""Exact penalties in closed or reduced form, for the cases chapter 2 studies in detail.

The exact penalty is ``R(beta) = sum_i E A(z_i + Delta_i) - A(z_i)`` (chapter 1, theorem
``thm-split``); :func:`dropout_taylor.regularizers.exact_regularizer` computes it for any design
by enumerating masks or by quadrature. The forms here are cheaper or more explicit:

* :func:`equal_contributions_regularizer`: one example whose ``d`` dropped contributions are
  equal, a binomial sum of ``d + 1`` terms instead of ``2^d`` masks (any ``d``), with the
  matching :func:`equal_contributions_quadratic`;
* :func:`gaussian_regularizer`: one score under a ``N(0, s^2)`` perturbation, on a grid of
  scores and scales (no design matrix), free of cancellation for confident examples;
* :func:`poisson_dropout_regularizer`, :func:`poisson_gaussian_regularizer`: Poisson
  regression, where ``E e^Delta`` is a moment generating function (theorem ``thm-poisson``);
* :func:`fisher_diagonal`: the diagonal Fisher information, in which the quadratic dropout
  penalty of logistic regression is a ridge penalty (theorem ``thm-adaptive``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from . import _validate
from .logpartition import LogPartition, logistic
from .quadrature import gauss_hermite_expectation

#: Largest number of equal contributions handled by the binomial sum.
MAX_EQUAL_FEATURES = 1_000_000


def _features(d: int) -> int:
    return _validate.order(d, "d", high=MAX_EQUAL_FEATURES, low=1)


def _grid(z: ArrayLike, a: ArrayLike, name: str = "a") -> tuple[NDArray[np.float64], ...]:
    z = _validate.finite_array(z, "z")
    a = _validate.finite_array(a, name)
    return tuple(np.broadcast_arrays(z, a))


def equal_contributions_regularizer(
    z: ArrayLike, a: ArrayLike, d: int, delta: float, A: LogPartition = logistic
) -> NDArray[np.float64]:
    """Exact dropout penalty of one example whose ``d`` noisy contributions all equal ``a``.

    The clean score is ``z`` (any part ``z - d a`` comes from features that are not dropped).
    With ``K ~ Binomial(d, 1 - delta)`` kept features, ``Delta = a ((1 + r) K - d)``,
    ``r = delta / (1 - delta)``, so

        R = sum_k P(K = k) A(z + a((1 + r) k - d)) - A(z):

    ``d + 1`` terms instead of ``2^d`` masks (chapter 2: theorems ``thm-dropout-sign``,
    ``thm-confident-limits`` and ``thm-fast-clt``, figures ``fig-relative-error``,
    ``fig-small-rate`` and ``fig-fast-convergence``). ``z`` and ``a`` broadcast. For softplus
    the sum is taken at ``(-|z|, -sign(z) a)``, where ``A`` is small: the same R (because
    ``A(w) - A(-w) = w`` is linear and ``E Delta = 0``) without the cancellation of
    ``E A(z + Delta) - A(z)`` for confident examples.
    """
    d = _features(d)
    delta = _validate.rate(delta)
    z, a = _grid(z, a)
    if A is logistic:  # R is even under (z, a) -> (-z, -a): work where A is tiny
        flip = np.where(z > 0, -1.0, 1.0)
        z, a = z * flip, a * flip
    r = delta / (1.0 - delta)
    k = np.arange(d + 1)
    pmf = stats.binom.pmf(k, d, 1.0 - delta)
    support = pmf > 0
    k, pmf = k[support], pmf[support]
    shift = a[..., None] * ((1.0 + r) * k - d)
    return (A(z[..., None] + shift) - A(z)[..., None]) @ pmf


def equal_contributions_quadratic(
    z: ArrayLike, a: ArrayLike, d: int, delta: float, A: LogPartition = logistic
) -> NDArray[np.float64]:
    """``R^q = 1/2 A''(z) r d a^2`` for ``d`` equal noisy contributions ``a``, the quadratic
    counterpart of :func:`equal_contributions_regularizer` (chapter 2, theorem ``thm-quadratic``
    with ``Var Delta = r d a^2`` from proposition ``prop-variance``)."""
    d = _features(d)
    delta = _validate.rate(delta)
    z, a = _grid(z, a)
    return 0.5 * A.derivative(z, 2) * delta / (1.0 - delta) * d * a**2


def gaussian_regularizer(
    z: ArrayLike, s: ArrayLike, A: LogPartition = logistic, n_nodes: int = 101
) -> NDArray[np.float64]:
    """``E A(z + s xi) - A(z)``, ``xi ~ N(0, 1)``: the exact penalty of one example whose score
    perturbation is ``N(0, s^2)`` (additive or multiplicative Gaussian noise, or fast dropout).

    Gauss-Hermite quadrature with ``z`` and ``s`` broadcast against each other, so a whole
    grid of scores and scales is one call (chapter 2, theorems ``thm-gauss-small``,
    ``thm-confident-limits``, ``thm-fast-clt``; figure ``fig-relative-error``). For a design
    matrix and a noise model use :func:`dropout_taylor.exact_regularizer`, which takes the same
    negative-score side for softplus: ``A(w) - A(-w) = w`` gives ``R(z) = R(-z)``, evaluated at
    ``-|z|`` to keep full relative accuracy where R is far below ``A(z)``.
    """
    z, s = _grid(z, s, "s")
    if np.any(s < 0):
        raise ValueError("s must be >= 0 (a standard deviation)")
    if A is logistic:
        z = -np.abs(z)
    return gauss_hermite_expectation(A, z, s, n_nodes=n_nodes) - A(z)


def poisson_dropout_regularizer(X: ArrayLike, beta: ArrayLike, delta: float) -> NDArray[np.float64]:
    """Per-example dropout penalty for Poisson regression (``A = exp``), in closed form:

        R_i = e^{z_i} (prod_j (delta e^{-a_ij} + (1 - delta) e^{r a_ij}) - 1)

    (chapter 2, theorem ``thm-poisson``): the moment generating function of ``Delta_i`` at 1,
    a product by independence of the masks. Evaluated in logs (``logaddexp``, ``expm1``)."""
    delta = _validate.rate(delta)
    X, beta = _validate.design(X, beta)
    a = X * beta
    if delta == 0:
        return np.zeros(X.shape[0])
    r = delta / (1.0 - delta)
    log_mgf = np.sum(np.logaddexp(np.log(delta) - a, np.log1p(-delta) + r * a), axis=1)
    return np.exp(X @ beta) * np.expm1(log_mgf)


def poisson_gaussian_regularizer(z: ArrayLike, s: ArrayLike) -> NDArray[np.float64]:
    """Per-example penalty for Poisson regression under a ``N(0, s^2)`` perturbation:
    ``E e^{z + Delta} - e^z = e^z (e^{s^2/2} - 1)`` (chapter 2, theorem ``thm-poisson``)."""
    z, s = _grid(z, s, "s")
    if np.any(s < 0):
        raise ValueError("s must be >= 0 (a standard deviation)")
    return np.exp(z) * np.expm1(s**2 / 2.0)


def fisher_diagonal(X: ArrayLike, beta: ArrayLike, A: LogPartition = logistic) -> NDArray[np.float64]:
    """Diagonal of the Fisher information ``I(beta) = sum_i A''(z_i) x_i x_i^T``:
    ``I_jj = sum_i A''(z_i) x_ij^2`` (for logistic regression ``A'' = p_i (1 - p_i)``).

    Chapter 2, theorem ``thm-adaptive``: under dropout ``R^q = r/2 sum_j I_jj beta_j^2``.
    """
    X, beta = _validate.design(X, beta)
    return A.derivative(X @ beta, 2) @ X**2

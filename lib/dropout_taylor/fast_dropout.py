"""Fast dropout (Wang & Manning 2013): a normal law in place of the dropout sum (chapter 2).

The exact dropout penalty is ``R(beta) = sum_i E A(z_i + Delta_i) - A(z_i)`` (chapter 1,
theorem ``thm-split``). Fast dropout replaces the perturbation ``Delta_i`` by the normal variable
with the same mean (0) and variance (``r sum_j a_ij^2``) and integrates against it:

* :func:`fast_dropout_regularizer`: ``R^f`` for a design matrix (Gauss-Hermite quadrature);
* :func:`fast_dropout_errors`, :func:`convergence_slope`: ``R^f - R`` and ``R^q - R`` for ``d``
  equal contributions with the variance held fixed, and the rate at which they vanish;
* :func:`fast_dropout_error_expansion`: the Edgeworth prediction of ``R^f - R``
  (theorem ``thm-fast-clt``);
* :func:`fast_to_exact_ratio`: ``R^f / R`` for few equal contributions.

The Lagrange bound of theorem ``thm-quadratic`` (part 2) is
:func:`dropout_taylor.bounds.lagrange_bound`, shared with chapter 5.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate
from .closed_forms import MAX_EQUAL_FEATURES, equal_contributions_regularizer, gaussian_regularizer
from .logpartition import LogPartition, logistic
from .quadrature import gauss_hermite_expectation


def fast_dropout_regularizer(
    X: ArrayLike,
    beta: ArrayLike,
    delta: float,
    A: LogPartition = logistic,
    noisy: ArrayLike | None = None,
    per_example: bool = False,
    n_nodes: int = 101,
) -> NDArray[np.float64] | float:
    """Fast-dropout penalty ``R^f = sum_i E A(z_i + s_i xi) - A(z_i)``, ``xi ~ N(0, 1)``.

    ``s_i^2 = r sum_j a_ij^2`` with ``r = delta / (1 - delta)`` and ``a_ij = x_ij beta_j`` over the
    noisy features: the dropout perturbation replaced by the normal law with its mean and
    variance (Wang & Manning 2013; chapter 2, eq. ``eq-fast-dropout``, theorem
    ``thm-fast-clt``). The expectation is a Gauss-Hermite rule with ``n_nodes`` nodes. This is
    also the exact penalty of multiplicative Gaussian noise of the same rate.
    """
    delta = _validate.rate(delta)
    X, beta = _validate.design(X, beta)
    keep = _validate.feature_mask(noisy, X.shape[1])
    z = X @ beta
    r = delta / (1.0 - delta)
    std = np.sqrt(r * np.sum((X * beta)[:, keep] ** 2, axis=1))
    values = gauss_hermite_expectation(A, z, std, n_nodes=n_nodes) - A(z)
    return values if per_example else float(np.sum(values))


def _features(d: int, name: str = "d") -> int:
    return _validate.order(d, name, high=MAX_EQUAL_FEATURES, low=1)


def _open_rate(delta: float) -> float:
    delta = _validate.rate(delta)
    if delta == 0:
        raise ValueError("delta must be in (0, 1) here (at delta = 0 nothing is dropped), got 0")
    return delta


def fast_dropout_errors(
    z: float, s: float, d_values: ArrayLike, delta: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(R^f - R, R^q - R)`` for one logistic example with clean score ``z`` and ``d`` equal
    dropped contributions ``a = s / sqrt(r d)``, for each ``d`` in ``d_values``.

    ``Var Delta = r d a^2 = s^2`` for every ``d``, so ``R^f = E A(z + s xi) - A(z)`` and
    ``R^q = 1/2 A''(z) s^2`` do not depend on ``d``, while the exact ``R`` (the binomial sum
    of :func:`dropout_taylor.closed_forms.equal_contributions_regularizer`) tends to ``R^f``
    (chapter 2, theorem ``thm-fast-clt`` and figure ``fig-fast-convergence``).
    """
    z = float(_validate.finite_array(z, "z", ndim=0))
    s = _validate.scale(s, "s")
    delta = _open_rate(delta)
    d_values = [_features(int(d), "d_values") for d in np.atleast_1d(d_values)]
    r = delta / (1.0 - delta)
    exact = np.array(
        [float(equal_contributions_regularizer(z, s / np.sqrt(r * d), d, delta)) for d in d_values]
    )
    fast = float(gaussian_regularizer(z, s))
    quadratic = 0.5 * float(logistic.derivative(z, 2)) * s**2
    return fast - exact, quadratic - exact


def convergence_slope(d_values: ArrayLike, errors: ArrayLike) -> float:
    """Least-squares slope of ``log|error|`` against ``log d``: the exponent ``p`` in
    ``|error| ~ C d^p`` (chapter 2, theorem ``thm-fast-clt``: ``-1/2``, or ``-1`` at
    ``delta = 1/2``). Needs at least two points and nonzero errors."""
    d_values = _validate.finite_array(d_values, "d_values", ndim=1)
    errors = _validate.finite_array(errors, "errors", ndim=1)
    if d_values.shape != errors.shape or d_values.size < 2:
        raise ValueError("d_values and errors must be 1-d of the same length >= 2")
    if np.any(d_values <= 0) or np.any(errors == 0):
        raise ValueError("d_values must be > 0 and errors nonzero (logarithms are taken)")
    return float(np.polyfit(np.log(d_values), np.log(np.abs(errors)), 1)[0])


def fast_dropout_error_expansion(
    z: ArrayLike,
    s: float,
    d: int,
    delta: float,
    order: int = 1,
    A: LogPartition = logistic,
    n_nodes: int = 101,
) -> NDArray[np.float64]:
    """Edgeworth expansion of the fast-dropout error ``R^f - R`` for ``d`` equal contributions
    with ``Var Delta = s^2`` (chapter 2, theorem ``thm-fast-clt``).

    Each contribution is ``a = s / sqrt(r d)``, ``r = delta / (1 - delta)``. A summand ``a u_j``
    (``u = r`` or ``-1``) has cumulants ``kappa_3 = a^3 delta (r^2 - 1)`` and
    ``kappa_4 = a^4 (delta (1 + r^3) - 3 r^2)``; summed over the d features,
    ``K3 = s^3 delta (r^2 - 1) / (r^{3/2} sqrt d)`` and
    ``K4 = s^4 (delta (1 + r^3) - 3 r^2) / (r^2 d)``. With ``E_n = E A^{(n)}(z + s xi)``:

        R - R^f = K3/6 E_3                               (order 1, error O(1/d))
                  + K4/24 E_4 + K3^2/72 E_6              (order 2, error O(d^{-3/2}))

    Returns ``R^f - R`` to the requested ``order`` (1 or 2). The order-1 term is ``O(d^{-1/2})``
    and vanishes when ``delta = 1/2`` (``r = 1``), leaving an ``O(1/d)`` error.
    """
    d = _features(d)
    delta = _open_rate(delta)
    order = _validate.order(order, "order", high=2, low=1)
    s = _validate.scale(s, "s")
    z = _validate.finite_array(z, "z")
    r = delta / (1.0 - delta)
    k3 = s**3 * delta * (r**2 - 1.0) / (r**1.5 * np.sqrt(d))
    k4 = s**4 * (delta * (1.0 + r**3) - 3.0 * r**2) / (r**2 * d)
    std = np.full_like(z, s)

    def smoothed(n: int) -> NDArray[np.float64]:
        return gauss_hermite_expectation(lambda w: A.derivative(w, n), z, std, n_nodes=n_nodes)

    gap = k3 / 6.0 * smoothed(3)
    if order == 2:
        gap = gap + k4 / 24.0 * smoothed(4) + k3**2 / 72.0 * smoothed(6)
    return -gap


def fast_to_exact_ratio(z: float, a: float, d: int, delta: float) -> float:
    """``R^f / R`` for one logistic example with clean score ``z`` and ``d`` equal dropped
    contributions ``a``: fast dropout uses ``N(0, r d a^2)``, the exact R the binomial sum
    (chapter 2, the few-features case after theorem ``thm-fast-clt``)."""
    d = _features(d)
    delta = _open_rate(delta)
    z = float(_validate.finite_array(z, "z", ndim=0))
    a = float(_validate.finite_array(a, "a", ndim=0))
    if a == 0:
        raise ValueError("a must be nonzero (R = R^f = 0 otherwise)")
    s = np.sqrt(delta / (1.0 - delta) * d) * a
    return float(gaussian_regularizer(z, s)) / float(equal_contributions_regularizer(z, a, d, delta))


"""The noise regulariser R(beta) exactly, and its quadratic approximation R^q.

Averaging the GLM loss over feature noise splits it into the clean loss plus a label-free
term (chapter 1, theorem ``thm-split``):

    E l(beta; x_tilde, y) = l(beta; x, y) + R(beta),
    R(beta) = sum_i E A(x_tilde_i . beta) - A(x_i . beta) = sum_i E A(z_i + Delta_i) - A(z_i).

The second-order Taylor step of Wager, Wang & Liang (2013) replaces it by

    R^q(beta) = 1/2 sum_i A''(z_i) Var Delta_i            (chapter 2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .logpartition import LogPartition, logistic
from .noise import NoiseModel


def _total(values: NDArray[np.float64], per_example: bool) -> NDArray[np.float64] | float:
    return values if per_example else float(np.sum(values))


def exact_regularizer(
    X: ArrayLike,
    beta: ArrayLike,
    noise: NoiseModel,
    A: LogPartition = logistic,
    per_example: bool = False,
) -> NDArray[np.float64] | float:
    """``R(beta) = sum_i E A(z_i + Delta_i) - A(z_i)`` (chapter 1, theorem ``thm-split``).

    Exact for dropout (all ``2^d`` masks enumerated); Gauss-Hermite quadrature for the
    Gaussian models, under which ``Delta_i`` is exactly normal. For logistic regression the
    expectation is taken on the side of negative scores (``softplus(w) = softplus(-w) + w``),
    which keeps full relative accuracy for confident examples. Returns the sum over
    examples, or the vector of per-example terms with ``per_example=True``.
    """
    z = noise.scores(X, beta)
    if A is logistic:
        # softplus(w) = softplus(-w) + w and E Delta = 0 give, for every example,
        # E A(z + Delta) - A(z) = E A(-z - Delta) - A(-z). Evaluating on the side where the
        # score is negative keeps both terms small for confident examples (z = 30: A(z) is
        # about 30 while R is about e^-30), so R keeps its relative accuracy.
        sign = np.where(z > 0, -1.0, 1.0)

        def flipped(w: NDArray[np.float64]) -> NDArray[np.float64]:
            return A(sign[:, None] * w)

        return _total(noise.expect(flipped, X, beta) - A(sign * z), per_example)
    return _total(noise.expect(A, X, beta) - A(z), per_example)


def quadratic_regularizer(
    X: ArrayLike,
    beta: ArrayLike,
    noise: NoiseModel,
    A: LogPartition = logistic,
    per_example: bool = False,
) -> NDArray[np.float64] | float:
    """``R^q(beta) = 1/2 sum_i A''(z_i) Var Delta_i`` (Wager, Wang & Liang 2013, eq. 6).

    For logistic regression under dropout this is
    ``1/2 * delta/(1-delta) * sum_j beta_j^2 sum_i p_i (1 - p_i) x_ij^2`` (chapter 2).
    """
    z = noise.scores(X, beta)
    return _total(0.5 * A.derivative(z, 2) * noise.perturbation_variance(X, beta), per_example)

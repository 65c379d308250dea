"""Feature-noise models and the perturbation they put on the linear score.

A noise model replaces an example ``x`` by an unbiased ``x_tilde`` (``E x_tilde = x``); the
linear score moves by ``Delta = (x_tilde - x) . beta`` (chapter 1, eq. ``eq-delta``).

* :class:`Dropout` (rate delta): ``x_tilde_j = x_j m_j / (1 - delta)``, ``m_j ~ Bernoulli(1 - delta)``.
  With ``a_j = x_j beta_j`` and ``r = delta / (1 - delta)``, ``Delta = sum_j a_j u_j`` where
  ``u_j = r`` (kept) or ``-1`` (dropped): at most ``2^d`` atoms, ``Var Delta = r sum_j a_j^2``.
* :class:`AdditiveGaussian` (scale sigma): ``x_tilde = x + eps``, ``eps ~ N(0, sigma^2 I)``;
  ``Delta ~ N(0, sigma^2 |beta|^2)``.
* :class:`MultiplicativeGaussian` (rate delta): ``x_tilde_j = x_j (1 + eps_j)``,
  ``eps_j ~ N(0, r)``; ``Delta ~ N(0, r sum_j a_j^2)``, the Gaussian with dropout's variance.

Every model can be restricted to a subset of features (``noisy``), e.g. to leave an intercept
column untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate
from .quadrature import gauss_hermite_expectation

#: Largest number of noisy features whose 2^d dropout masks are enumerated exactly.
MAX_ENUMERATION_FEATURES = 20

#: Masks evaluated per block, times the number of examples, is kept under this many floats.
_BLOCK_FLOATS = 1 << 21

Function = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def enumerate_masks(d: int) -> NDArray[np.bool_]:
    """All ``2^d`` keep-masks as a boolean array of shape ``(2^d, d)``; row ``m`` is the binary
    expansion of ``m`` (bit j set means feature j is kept)."""
    d = _validate.order(d, "d", high=MAX_ENUMERATION_FEATURES)
    return ((np.arange(2**d)[:, None] >> np.arange(d)) & 1).astype(bool)


@dataclass(frozen=True)
class _Noise:
    noisy: ArrayLike | None = field(default=None, kw_only=True, repr=False)

    def contributions(self, X: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        """``a_ij = x_ij beta_j`` over the noisy features only (shape (n, number noisy))."""
        X, beta = _validate.design(X, beta)
        keep = _validate.feature_mask(self.noisy, X.shape[1])
        return (X * beta)[:, keep]

    def scores(self, X: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        """The clean linear scores ``z_i = x_i . beta``."""
        X, beta = _validate.design(X, beta)
        return X @ beta

    def perturbation_mean(self, X: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        """``E Delta_i``: zero for every unbiased model."""
        return np.zeros(self.contributions(X, beta).shape[0])

    def perturbation_variance(self, X: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        """``Var Delta_i`` (chapter 2, the variance step of the quadratic approximation)."""
        raise NotImplementedError

    def expect(self, f: Function, X: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        """``E f(z_i + Delta_i)`` for every example i."""
        raise NotImplementedError


@dataclass(frozen=True)
class _RateNoise(_Noise):
    """A model parametrised by a dropout rate ``delta`` in [0, 1), with
    ``Var Delta_i = r sum_j a_ij^2`` and ``r = delta / (1 - delta)``."""

    delta: float

    def __post_init__(self) -> None:
        _validate.rate(self.delta)

    @property
    def r(self) -> float:
        """``r = delta / (1 - delta)``: under dropout a kept feature's score moves by
        ``r a_j``; under multiplicative Gaussian noise it is the variance of each ``eps_j``."""
        return self.delta / (1.0 - self.delta)

    def perturbation_variance(self, X: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        """``Var Delta_i = r sum_j a_ij^2`` (the same for dropout and Gaussian dropout)."""
        return self.r * np.sum(self.contributions(X, beta) ** 2, axis=1)


@dataclass(frozen=True)
class Dropout(_RateNoise):
    """Dropout with rate ``delta`` in [0, 1) on the ``noisy`` features (default: all)."""

    def sample_X(self, X: ArrayLike, rng: np.random.Generator) -> NDArray[np.float64]:
        """One dropout draw of the whole design: ``x_ij m_ij / (1 - delta)`` on noisy columns."""
        X = _validate.finite_array(X, "X", ndim=2)
        keep = _validate.feature_mask(self.noisy, X.shape[1])
        m = rng.random(X.shape) >= self.delta
        return np.where(keep & ~m, 0.0, np.where(keep, X / (1.0 - self.delta), X))

    def mask_probabilities(self, d: int) -> NDArray[np.float64]:
        """Probability of each mask of :func:`enumerate_masks`: ``(1-delta)^kept delta^dropped``."""
        kept = enumerate_masks(d).sum(axis=1)
        return (1.0 - self.delta) ** kept * self.delta ** (d - kept)

    def atoms(self, X: ArrayLike, beta: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The exact distribution of ``Delta_i``: values ``(n, 2^d)`` and probabilities ``(2^d,)``.

        Column m is the perturbation under mask m of :func:`enumerate_masks` (no merging of
        equal values; masks of probability zero are kept when delta = 0). Exact enumeration is
        limited to ``MAX_ENUMERATION_FEATURES`` noisy features.
        """
        a = self._enumerable_contributions(X, beta)
        masks = enumerate_masks(a.shape[1])
        u = np.where(masks, self.r, -1.0)
        return a @ u.T, self.mask_probabilities(a.shape[1])

    def expect(self, f: Function, X: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        """``E f(z_i + Delta_i) = sum_m P(m) f(z_i + Delta_i(m))`` by enumerating all masks.

        Vectorised in blocks of masks so memory stays bounded (about 16 MB) for any n and d up
        to ``MAX_ENUMERATION_FEATURES``.
        """
        a = self._enumerable_contributions(X, beta)
        z = self.scores(X, beta)
        n, d = a.shape
        masks = enumerate_masks(d)
        u = np.where(masks, self.r, -1.0)
        prob = self.mask_probabilities(d)
        block = max(1, _BLOCK_FLOATS // max(n, 1))
        total = np.zeros(n)
        for start in range(0, len(prob), block):
            delta_block = a @ u[start : start + block].T
            total += f(z[:, None] + delta_block) @ prob[start : start + block]
        return total

    def extreme_perturbations(
        self, X: ArrayLike, beta: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Smallest and largest atom of ``Delta_i`` in closed form (chapter 3).

        With ``S+ = sum_j max(a_j, 0)`` and ``S- = sum_j max(-a_j, 0)``:
        ``max Delta = r S+ + S-`` (keep the positive, drop the negative contributions) and
        ``min Delta = -(S+ + r S-)``. When delta = 0 the only mask of positive probability keeps
        everything and both are 0.
        """
        a = self.contributions(X, beta)
        if self.delta == 0:
            zero = np.zeros(a.shape[0])
            return zero, zero
        s_plus = np.clip(a, 0, None).sum(axis=1)
        s_minus = np.clip(-a, 0, None).sum(axis=1)
        return -(s_plus + self.r * s_minus), self.r * s_plus + s_minus

    def _enumerable_contributions(self, X: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        a = self.contributions(X, beta)
        if a.shape[1] > MAX_ENUMERATION_FEATURES:
            raise ValueError(
                f"X has {a.shape[1]} noisy features: exact enumeration of the 2^d dropout masks "
                f"needs d in [0, {MAX_ENUMERATION_FEATURES}]; use a Monte Carlo estimate above that"
            )
        return a


@dataclass(frozen=True)
class _GaussianScore(_Noise):
    """A model under which ``Delta_i`` is exactly ``N(0, s_i^2)``."""

    def expect(
        self, f: Function, X: ArrayLike, beta: ArrayLike, n_nodes: int = 101
    ) -> NDArray[np.float64]:
        """``E f(z_i + s_i xi)``, ``xi ~ N(0, 1)``, by Gauss-Hermite quadrature."""
        z = self.scores(X, beta)
        std = np.sqrt(self.perturbation_variance(X, beta))
        return gauss_hermite_expectation(f, z, std, n_nodes=n_nodes)

    def sample_perturbation(
        self, X: ArrayLike, beta: ArrayLike, rng: np.random.Generator, size: int
    ) -> NDArray[np.float64]:
        """``size`` draws of ``Delta_i`` for every example: shape ``(n, size)``."""
        std = np.sqrt(self.perturbation_variance(X, beta))
        return std[:, None] * rng.standard_normal((std.shape[0], size))


@dataclass(frozen=True)
class AdditiveGaussian(_GaussianScore):
    """Additive Gaussian feature noise ``eps ~ N(0, sigma^2 I)`` on the noisy features."""

    sigma: float

    def __post_init__(self) -> None:
        _validate.scale(self.sigma)

    def perturbation_variance(self, X: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
        """``Var Delta_i = sigma^2 sum_{j noisy} beta_j^2`` (the same for every example)."""
        X, beta = _validate.design(X, beta)
        keep = _validate.feature_mask(self.noisy, X.shape[1])
        return np.full(X.shape[0], self.sigma**2 * np.sum(beta[keep] ** 2))

    def sample_X(self, X: ArrayLike, rng: np.random.Generator) -> NDArray[np.float64]:
        """One draw of ``x + eps`` on the noisy columns."""
        X = _validate.finite_array(X, "X", ndim=2)
        keep = _validate.feature_mask(self.noisy, X.shape[1])
        return X + keep * self.sigma * rng.standard_normal(X.shape)


@dataclass(frozen=True)
class MultiplicativeGaussian(_GaussianScore, _RateNoise):
    """Multiplicative ("Gaussian dropout") noise ``x_j (1 + eps_j)``, ``eps_j ~ N(0, delta/(1-delta))``."""

    def sample_X(self, X: ArrayLike, rng: np.random.Generator) -> NDArray[np.float64]:
        """One draw of ``x_j (1 + eps_j)`` on the noisy columns."""
        X = _validate.finite_array(X, "X", ndim=2)
        keep = _validate.feature_mask(self.noisy, X.shape[1])
        return X * (1 + keep * np.sqrt(self.r) * rng.standard_normal(X.shape))


NoiseModel = Dropout | AdditiveGaussian | MultiplicativeGaussian

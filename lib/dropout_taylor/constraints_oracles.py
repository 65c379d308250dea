"""Brute-force oracles for chapter 4 (``04_constraints``), sharing no code with ``constraints``.

Each function enumerates every dropout mask with a plain ``itertools`` loop and plain numpy
arithmetic, the way the definitions read, so the closed forms of
:mod:`dropout_taylor.constraints` (and of ``noise.Dropout``) can be checked against them:

* :func:`admissible_by_enumeration`: definition ``def-admissible`` (all masks inside the
  radius), the oracle for theorem ``thm-admissible``;
* :func:`random_admissibility_case`: the random problems that check draws;
* :func:`ball_vertices` and :func:`largest_perturbation`: the supremum of ``max |Delta|``
  over an L1 or L-infinity ball, at its vertices, the oracle for theorem ``thm-balls``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate


def _perturbations(x: NDArray[np.float64], beta: NDArray[np.float64], delta: float,
                   noisy: NDArray[np.bool_]) -> list[float]:
    """``Delta(m) = (x_tilde(m) - x) . beta`` for every mask ``m`` of the noisy features, with
    ``x_tilde_j = x_j m_j / (1 - delta)`` (kept: ``m_j = 1``)."""
    out = []
    for mask in itertools.product([0, 1], repeat=int(noisy.sum())):
        x_tilde = x.copy()
        x_tilde[noisy] = x[noisy] * np.array(mask) / (1 - delta)
        out.append(float((x_tilde - x) @ beta))
    return out


def _check(x: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None):
    x = _validate.finite_array(x, "x", ndim=1)
    beta = _validate.finite_array(beta, "beta", ndim=1)
    if beta.shape != x.shape:
        raise ValueError(f"beta must have the shape of x {x.shape}, got {beta.shape}")
    delta = _validate.rate(delta)
    if delta == 0:
        raise ValueError("delta must lie in (0, 1): at delta = 0 only the full mask has mass")
    keep = _validate.feature_mask(noisy, x.shape[0])
    if keep.sum() > 16:
        raise ValueError(f"at most 16 noisy features can be enumerated, got {keep.sum()}")
    return x, beta, delta, keep


def admissible_by_enumeration(
    x: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> bool:
    """Definition ``def-admissible``: ``|Delta(m)| < sqrt((x . beta)^2 + pi^2)`` for all ``2^|N|``
    masks ``m`` of the noisy features (all have positive probability when 0 < delta < 1).

    Plain loop over the masks (at most 16 noisy features); the oracle for theorem
    ``thm-admissible`` (chapter 4).
    """
    x, beta, delta, keep = _check(x, beta, delta, noisy)
    rho = math.hypot(float(x @ beta), math.pi)
    return all(abs(d) < rho for d in _perturbations(x, beta, delta, keep))


def random_admissibility_case(
    seed: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float, NDArray[np.bool_]]:
    """A random problem ``(x, beta, delta, noisy)`` for the check of theorem ``thm-admissible``.

    From ``np.random.default_rng(seed)``: 2 to 7 features, a rate from
    {0.05, 0.2, 0.5, 0.7, 0.9}, normal ``x`` and normal ``beta`` scaled by U(0.1, 3); for odd
    seeds feature 0 is an undropped intercept (not in ``noisy``).
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 8))
    delta = float(rng.choice([0.05, 0.2, 0.5, 0.7, 0.9]))
    x, beta = rng.normal(size=d), rng.normal(size=d) * rng.uniform(0.1, 3)
    return x, beta, delta, np.arange(d) >= seed % 2


def ball_vertices(d: int, t: float, norm: float) -> NDArray[np.float64]:
    """The vertices of the ball ``||beta||_norm <= t`` in R^d, for ``norm`` 1 or inf.

    L-infinity: the ``2^d`` points ``t s``, ``s in {-1, 1}^d``; L1: the ``2 d`` points
    ``+- t e_j``. A convex function of ``beta`` (such as ``max |Delta|``) takes its maximum
    over the ball at one of them (chapter 4, check of theorem ``thm-balls``).
    """
    if not isinstance(d, (int, np.integer)) or not 1 <= d <= 16:
        raise ValueError(f"d must be an integer in [1, 16], got {d!r}")
    t = _validate.scale(t, "t")
    if norm == 1:
        return np.concatenate([t * np.eye(d), -t * np.eye(d)])
    if norm == np.inf:
        return t * np.array(list(itertools.product([-1.0, 1.0], repeat=d)))
    raise ValueError(f"norm must be 1 or inf (a polytope), got {norm!r}")


def largest_perturbation(x: ArrayLike, delta: float, betas: ArrayLike) -> float:
    """``max |Delta(m)|`` over the weight vectors ``betas`` (rows) and every mask ``m`` of all
    features of ``x``, by enumeration (chapter 4, check of theorem ``thm-balls``)."""
    betas = _validate.finite_array(betas, "betas", ndim=2)
    return max(
        max(abs(d) for d in _perturbations(*_check(x, beta, delta, None)))
        for beta in betas
    )

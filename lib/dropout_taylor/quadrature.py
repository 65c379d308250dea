"""Expectations of functions of a Gaussian score by Gauss-Hermite quadrature."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
from numpy.polynomial import hermite_e
from numpy.typing import ArrayLike, NDArray

from . import _validate


@lru_cache(maxsize=16)
def _nodes(n_nodes: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, w = hermite_e.hermegauss(n_nodes)
    return x, w / np.sqrt(2 * np.pi)


def gauss_hermite_expectation(
    f: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    mean: ArrayLike,
    std: ArrayLike,
    n_nodes: int = 101,
) -> NDArray[np.float64]:
    """``E f(mean + std * xi)``, ``xi ~ N(0, 1)``, with the probabilists' Gauss-Hermite rule.

    ``sum_k w_k f(mean + std x_k) / sqrt(2 pi)`` with nodes and weights of
    ``numpy.polynomial.hermite_e.hermegauss``: exact for polynomials of degree below
    ``2 n_nodes``, and fast for functions analytic in a strip (softplus is analytic in
    ``|Im z| < pi``; the error grows when ``std`` is much larger than that strip).
    ``mean`` and ``std`` broadcast; ``f`` must be vectorised.
    """
    n_nodes = _validate.order(n_nodes, "n_nodes", high=400, low=1)
    mean = _validate.finite_array(mean, "mean")
    std = _validate.finite_array(std, "std")
    if np.any(std < 0):
        raise ValueError("std must be >= 0")
    x, w = _nodes(n_nodes)
    values = f(mean[..., None] + std[..., None] * x)
    return values @ w

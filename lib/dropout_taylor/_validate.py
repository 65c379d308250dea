"""Argument checks shared by the library: every bad input becomes a ``ValueError`` that names
the argument and the range it must lie in."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray


def finite_array(value: ArrayLike, name: str, ndim: int | None = None) -> NDArray[np.float64]:
    """Return ``value`` as a float array; reject NaN, infinities and a wrong number of axes."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} axis(es), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite: NaN and infinite entries are not allowed")
    return arr


def design(X: ArrayLike, beta: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Check a design matrix ``X`` (n, d) and weights ``beta`` (d,) and return them as arrays.

    A single example may be passed as a vector of length d.
    """
    X = finite_array(X, "X")
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise ValueError(f"X must be a matrix of shape (n, d), got shape {X.shape}")
    beta = finite_array(beta, "beta", ndim=1)
    if X.shape[1] != beta.shape[0]:
        raise ValueError(
            f"X and beta do not match: X has d = {X.shape[1]} columns, beta has {beta.shape[0]} "
            "entries"
        )
    return X, beta


def rate(delta: float, name: str = "delta") -> float:
    """A dropout rate: a real number in [0, 1)."""
    if not isinstance(delta, numbers.Real) or not np.isfinite(delta) or not 0 <= delta < 1:
        raise ValueError(f"{name} must be a real number in [0, 1), got {delta!r}")
    return float(delta)


def scale(sigma: float, name: str = "sigma") -> float:
    """A noise scale: a finite real number >= 0."""
    if not isinstance(sigma, numbers.Real) or not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"{name} must be a finite real number >= 0, got {sigma!r}")
    return float(sigma)


def order(n: int, name: str = "n", high: int | None = None, low: int = 0) -> int:
    """An order, count or size: an integer in [low, high] (no upper end when high is None)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {n!r}")
    if high is not None and n > high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {n}")
    return int(n)


def real(value: object, name: str) -> float:
    """One finite real number (not a bool, not an array)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a single finite real number, got {value!r}")
    arr = finite_array(value, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single real number, got shape {arr.shape}")
    return float(arr)


def feature_mask(mask: ArrayLike | None, d: int, name: str = "noisy") -> NDArray[np.bool_]:
    """A boolean mask over the d features (None means every feature)."""
    if mask is None:
        return np.ones(d, dtype=bool)
    arr = np.asarray(mask)
    if arr.dtype != bool or arr.shape != (d,):
        raise ValueError(f"{name} must be a boolean array of shape ({d},), got {arr.dtype} {arr.shape}")
    return arr

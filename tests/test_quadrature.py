"""Gauss-Hermite expectations (dropout_taylor.quadrature) against mpmath quad at 30 digits."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from dropout_taylor.quadrature import gauss_hermite_expectation


def _mp_expectation(f, mean: float, std: float) -> float:
    """E f(mean + std xi), xi ~ N(0, 1), by mpmath.quad over the real line."""
    with mpmath.workdps(30):
        density = lambda x: mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
        return float(mpmath.quad(lambda x: f(mean + std * x) * density(x), [-mpmath.inf, 0, mpmath.inf]))


def _mp_softplus(w):
    return mpmath.log1p(mpmath.exp(w)) if w < 0 else w + mpmath.log1p(mpmath.exp(-w))


CASES = [
    ("softplus", lambda w: np.logaddexp(0.0, w), _mp_softplus),
    ("sigmoid", lambda w: 1 / (1 + np.exp(-w)), lambda w: 1 / (1 + mpmath.exp(-w))),
    ("exp", np.exp, mpmath.exp),
    ("cos", np.cos, mpmath.cos),
    ("quartic", lambda w: w**4 - 2 * w, lambda w: w**4 - 2 * w),
]


@pytest.mark.parametrize(("name", "f", "f_mp"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize(("mean", "std"), [(0.0, 0.3), (1.5, 1.0), (-4.0, 2.0), (7.0, 0.05)])
def test_against_mpmath_quad(name, f, f_mp, mean, std):
    ours = gauss_hermite_expectation(f, mean, std)
    oracle = _mp_expectation(f_mp, mean, std)
    assert abs(float(ours) - oracle) <= 1e-10 * max(1.0, abs(oracle)), name


def test_closed_forms():
    # E e^{m + s xi} = e^{m + s^2/2}; E (m + s xi)^2 = m^2 + s^2
    assert np.isclose(gauss_hermite_expectation(np.exp, 0.3, 1.2), np.exp(0.3 + 0.72), rtol=1e-13)
    assert np.isclose(gauss_hermite_expectation(np.square, -2.0, 0.5), 4.25, rtol=1e-14)


def test_broadcasting_and_zero_std():
    means = np.array([[0.0, 1.0], [2.0, -1.0]])
    out = gauss_hermite_expectation(np.sin, means, 0.0)
    assert out.shape == (2, 2)
    assert np.allclose(out, np.sin(means), rtol=0, atol=1e-15)


@pytest.mark.parametrize("kwargs", [{"std": -1.0}, {"n_nodes": 0}, {"n_nodes": 1000}, {"mean": np.nan}])
def test_bad_input(kwargs):
    args = {"mean": 0.0, "std": 1.0} | kwargs
    with pytest.raises(ValueError):
        gauss_hermite_expectation(np.exp, **args)

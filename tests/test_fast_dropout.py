"""Fast dropout (dropout_taylor.fast_dropout) against independent oracles: mpmath quadrature, the
multiplicative Gaussian penalty, mask enumeration, and the many-small-equal-features limit
(chapter 2, theorem thm-fast-clt); and the Lagrange bound of theorem thm-quadratic."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import dropout_taylor as dt
from dropout_taylor import closed_forms as cf
from dropout_taylor import fast_dropout as fd


def _intercept_design(z, contributions):
    a = np.asarray(contributions, dtype=float)
    X = np.ones((1, a.size + 1))
    beta = np.concatenate([[z - a.sum()], a])
    return X, beta, np.arange(a.size + 1) > 0


def test_fast_dropout_is_the_multiplicative_gaussian_penalty():
    rng = np.random.default_rng(1)
    X, beta = rng.normal(size=(6, 4)), rng.normal(size=4)
    for delta in (0.1, 0.5, 0.9):
        ours = fd.fast_dropout_regularizer(X, beta, delta, per_example=True)
        other = dt.exact_regularizer(X, beta, dt.MultiplicativeGaussian(delta), per_example=True)
        assert np.allclose(ours, other, rtol=1e-13)


def test_fast_dropout_against_mpmath():
    z, a, delta = 0.8, np.array([1.0, -0.5, 2.0]), 0.4
    X, beta, noisy = _intercept_design(z, a)
    s = float(np.sqrt(delta / (1 - delta) * np.sum(a**2)))
    with mpmath.workdps(30):
        sp = lambda w: mpmath.log(1 + mpmath.exp(w))  # noqa: E731
        oracle = mpmath.quad(
            lambda x: sp(z + s * x) * mpmath.exp(-x * x / 2), [-mpmath.inf, 0, mpmath.inf]
        ) / mpmath.sqrt(2 * mpmath.pi) - sp(z)
    assert np.isclose(fd.fast_dropout_regularizer(X, beta, delta, noisy=noisy), float(oracle), rtol=1e-10)


def _fast_error(z, s, d, delta):
    """R^f - R straight from the closed forms (the oracle for fast_dropout_errors)."""
    a = s / np.sqrt(delta / (1 - delta) * d)
    return cf.gaussian_regularizer(z, s) - cf.equal_contributions_regularizer(z, a, d, delta)


@pytest.mark.parametrize("delta", [0.2, 0.5, 0.8])
def test_fast_dropout_converges_with_the_predicted_rate(delta):
    z, s = 1.0, 1.0
    ds = np.array([64, 256, 1024, 4096])
    errors = np.array([float(_fast_error(z, s, d, delta)) for d in ds])
    slope = np.polyfit(np.log(ds), np.log(np.abs(errors)), 1)[0]
    expected = -1.0 if delta == 0.5 else -0.5
    assert abs(slope - expected) < 0.02
    assert np.isclose(fd.convergence_slope(ds, errors), slope, rtol=1e-12)
    # the Edgeworth terms predict the error: order 1 to O(1/d), order 2 to O(d^{-3/2})
    second = np.array([float(fd.fast_dropout_error_expansion(z, s, d, delta, order=2)) for d in ds])
    assert np.all(np.abs(errors - second) * ds**1.5 < 0.01)
    if delta != 0.5:
        first = np.array([float(fd.fast_dropout_error_expansion(z, s, d, delta, order=1)) for d in ds])
        assert np.all(np.abs(errors - first) * ds < 0.05)


def test_fast_dropout_errors_against_enumeration():
    # small d: the exact R by enumerating all 2^d masks of d equal contributions
    z, s, delta = 0.7, 1.2, 0.3
    d_values = np.array([1, 3, 6])
    err_f, err_q = fd.fast_dropout_errors(z, s, d_values, delta)
    r = delta / (1 - delta)
    for k, d in enumerate(d_values):
        X, beta, noisy = _intercept_design(z, np.full(d, s / np.sqrt(r * d)))
        exact = dt.exact_regularizer(X, beta, dt.Dropout(delta, noisy=noisy))
        fast = fd.fast_dropout_regularizer(X, beta, delta, noisy=noisy)
        quad = dt.quadratic_regularizer(X, beta, dt.Dropout(delta, noisy=noisy))
        assert np.isclose(err_f[k], fast - exact, rtol=1e-10, atol=1e-15)
        assert np.isclose(err_q[k], quad - exact, rtol=1e-10, atol=1e-15)


def test_convergence_slope_recovers_a_power_law():
    d = np.array([4.0, 16.0, 64.0, 256.0])
    assert np.isclose(fd.convergence_slope(d, -3.0 * d**-0.75), -0.75, rtol=1e-12)


def test_fast_to_exact_ratio_against_enumeration():
    z, a, d = 8.0, 2.0, 4
    for delta in (0.2, 0.8):
        X, beta, noisy = _intercept_design(z, np.full(d, a))
        exact = dt.exact_regularizer(X, beta, dt.Dropout(delta, noisy=noisy))
        fast = fd.fast_dropout_regularizer(X, beta, delta, noisy=noisy)
        assert np.isclose(fd.fast_to_exact_ratio(z, a, d, delta), fast / exact, rtol=1e-9)


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (fd.fast_dropout_regularizer, {"X": np.ones((1, 2)), "beta": np.ones(2), "delta": 1.0}),
        (fd.fast_dropout_error_expansion, {"z": 0.0, "s": 1.0, "d": 4, "delta": 0.0}),
        (fd.fast_dropout_error_expansion, {"z": 0.0, "s": 1.0, "d": 4, "delta": 0.5, "order": 3}),
        (fd.fast_dropout_error_expansion, {"z": 0.0, "s": 1.0, "d": 0, "delta": 0.5}),
        (fd.fast_dropout_errors, {"z": 1.0, "s": 1.0, "d_values": [4, 0], "delta": 0.5}),
        (fd.fast_dropout_errors, {"z": 1.0, "s": -1.0, "d_values": [4], "delta": 0.5}),
        (fd.convergence_slope, {"d_values": [1.0, 2.0], "errors": [0.1, 0.0]}),
        (fd.convergence_slope, {"d_values": [1.0], "errors": [0.1]}),
        (fd.fast_to_exact_ratio, {"z": 1.0, "a": 0.0, "d": 4, "delta": 0.5}),
        (fd.fast_to_exact_ratio, {"z": 1.0, "a": 1.0, "d": 4, "delta": 0.0}),
    ],
)
def test_bad_input(call, kwargs):
    with pytest.raises(ValueError):
        call(**kwargs)

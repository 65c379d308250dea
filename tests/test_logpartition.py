"""Log-partition functions and the closed-form derivatives of softplus, against mpmath."""

import warnings

import mpmath
import numpy as np
import pytest

import dropout_taylor as dt

Z_GRID = np.concatenate([np.linspace(-50, 50, 41), [-0.3, 0.01, 1.7, 4.2]])


def _oracle(z: float, n: int) -> mpmath.mpf:
    with mpmath.workdps(50):
        return mpmath.diff(lambda w: mpmath.log1p(mpmath.exp(w)), mpmath.mpf(z), n)


def _term_scale(z: np.ndarray, n: int) -> np.ndarray:
    """Sum of |terms| of the polynomial: the magnitude that rounding errors scale with."""
    if n == 0:
        return np.abs(dt.softplus(z))
    c = np.abs(np.array(dt.softplus_derivative_coefficients(n), dtype=float))
    s, t = dt.sigmoid(z)[:, None], dt.sigmoid(-z)[:, None]
    k = np.arange(n + 1)
    return np.sum(c * s**k * t ** (n - k), axis=1)


@pytest.mark.parametrize("n", range(13))
def test_softplus_derivatives_match_mpmath(n):
    ours = dt.softplus_derivative(Z_GRID, n)
    ref = np.array([float(_oracle(z, n)) for z in Z_GRID])
    scale = _term_scale(Z_GRID, n)
    away = np.abs(ref) >= 1e-3 * scale  # away from the derivative's own zeros: relative error
    rel = np.abs(ours - ref) / np.abs(ref)
    assert np.all(rel[away] < 1e-10), (n, Z_GRID[away][rel[away] >= 1e-10])
    # near a zero: error small against the size of the terms that cancel there
    assert np.all(np.abs(ours - ref)[~away] <= 1e-13 * scale[~away])


@pytest.mark.parametrize("n", range(13))
@pytest.mark.parametrize("z", [-50.0, 50.0])
def test_tails_keep_relative_accuracy(n, z):
    ref = _oracle(z, n)
    assert abs(dt.softplus_derivative(z, n) - float(ref)) <= 1e-12 * abs(float(ref))


def test_low_orders_have_their_textbook_forms():
    z = np.linspace(-30, 30, 121)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(dt.softplus_derivative(z, 1), p, rtol=1e-14)
    q = 1 / (1 + np.exp(z))  # 1 - p without the cancellation of 1 - p
    np.testing.assert_allclose(dt.softplus_derivative(z, 2), p * q, rtol=1e-14)
    assert dt.softplus_derivative_coefficients(4) == (0, 1, -4, 1, 0)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 8, 20])
def test_finite_and_warning_free_at_1e4(n):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            values = dt.softplus_derivative(np.array([-1e4, -700.0, 0.0, 700.0, 1e4]), n)
    assert np.all(np.isfinite(values))
    if n == 0:
        assert values[-1] == 1e4 and values[0] == 0.0


@pytest.mark.parametrize("n", [0, 3, 17, 40])
def test_mp_version_matches_oracle(n):
    assert mpmath.almosteq(dt.softplus_derivative_mp(0.7, n, dps=40), _oracle(0.7, n), rel_eps=1e-35)


def test_radius_at_zero_is_pi():
    assert dt.softplus_radius(0.0) == pytest.approx(np.pi, rel=1e-15)
    assert dt.softplus_radius(3.0) == pytest.approx(np.hypot(3.0, np.pi), rel=1e-15)


def test_other_log_partitions():
    z = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(dt.linear(z), z**2 / 2)
    np.testing.assert_allclose(dt.linear.derivative(z, 2), 1.0)
    np.testing.assert_allclose(dt.linear.derivative(z, 3), 0.0)
    np.testing.assert_allclose(dt.poisson.derivative(z, 5), np.exp(z))
    np.testing.assert_allclose(dt.log_sum_exp(np.array([[0.0, np.log(3.0)]])), [np.log(4.0)])
    np.testing.assert_allclose(dt.softmax(np.array([0.0, np.log(3.0)])), [0.25, 0.75])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dt.softplus_derivative(0.0, -1), "n must be an integer >= 0"),
        (lambda: dt.softplus_derivative(0.0, 2.5), "n must be an integer >= 0"),
        (lambda: dt.softplus_derivative(0.0, 151), r"n must be an integer in \[0, 150\]"),
        (lambda: dt.softplus_derivative(np.nan, 2), "z must be finite"),
        (lambda: dt.softplus(np.inf), "z must be finite"),
        (lambda: dt.poisson(800.0), "z must be <= 700"),
        (lambda: dt.softplus_derivative_coefficients(0), "n must be an integer >= 1"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()

"""Tests of dropout_taylor.bounds: sup|A'''| against mpmath and sympy, the Lagrange and
second-order bounds and the confident-example lower bound against brute-force enumeration,
the moments against itertools, and the mpmath Taylor coefficients against the library."""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import dropout_taylor as dt
from dropout_taylor.bounds import (
    ARGMAX_THIRD_DERIVATIVE,
    SUP_THIRD_DERIVATIVE,
    binary_entropy_of_score,
    confident_lower_bound,
    fourth_moment,
    lagrange_bound,
    perturbation_moments,
    second_order_bounds,
)
from dropout_taylor.penalty import exact_penalty


def test_sup_third_derivative_sympy():
    s = sp.symbols("s", real=True)
    f = s * (1 - s) * (1 - 2 * s)  # A''' as a polynomial in sigma
    crit = [c for c in sp.solve(sp.diff(f, s), s) if 0 < c < 1]
    assert sp.simplify(max(abs(f.subs(s, c)) for c in crit) - 1 / (6 * sp.sqrt(3))) == 0


def test_sup_third_derivative_mpmath():
    with mpmath.workdps(30):
        a = lambda z: mpmath.log1p(mpmath.exp(z))  # noqa: E731
        zstar = mpmath.findroot(lambda z: mpmath.diff(a, z, 4), 1.3)
        assert abs(zstar - ARGMAX_THIRD_DERIVATIVE) < 1e-15
        assert abs(abs(mpmath.diff(a, zstar, 3)) - SUP_THIRD_DERIVATIVE) < 1e-15
    grid = np.linspace(-40, 40, 200001)
    assert np.max(np.abs(dt.softplus_derivative(grid, 3))) <= SUP_THIRD_DERIVATIVE * (
        1 + 1e-12
    )


def brute_moments(x, beta, delta):
    vals, probs = [], []
    for m in itertools.product([0, 1], repeat=len(x)):
        vals.append(float((x * np.array(m) / (1 - delta)) @ beta - x @ beta))
        probs.append(math.prod((1 - delta) if k else delta for k in m))
    return np.array(vals), np.array(probs)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), d=st.integers(1, 6), delta=st.floats(0.02, 0.95))
def test_moments_match_itertools(seed, d, delta):
    rng = np.random.default_rng(seed)
    X, beta = rng.normal(size=(3, d)), rng.normal(size=d)
    mom = perturbation_moments(X, beta, delta)
    m4 = fourth_moment(X, beta, delta)
    for i, x in enumerate(X):
        v, p = brute_moments(x, beta, delta)
        z = x @ beta
        assert mom["abs3"][i] == pytest.approx(p @ np.abs(v) ** 3, rel=1e-10)
        assert mom["var"][i] == pytest.approx(p @ v**2, rel=1e-10, abs=1e-300)
        assert m4[i] == pytest.approx(p @ v**4, rel=1e-10, abs=1e-300)
        s = np.array(
            [
                (x * np.array(m) / (1 - delta)) @ beta
                for m in itertools.product([0, 1], repeat=d)
            ]
        )
        flips = ((s <= 0) & (z > 0)) | ((s >= 0) & (z < 0))
        assert mom["flip"][i] == pytest.approx(p @ flips, abs=1e-14)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    d=st.integers(1, 8),
    delta=st.floats(0.02, 0.95),
    scale=st.sampled_from([0.05, 0.5, 2.0, 8.0]),
)
def test_bounds_hold(seed, d, delta, scale):
    rng = np.random.default_rng(seed)
    X, beta = rng.normal(size=(5, d)), scale * rng.normal(size=d)
    R = exact_penalty(X, beta, delta, per_example=True)
    Rq = dt.quadratic_regularizer(X, beta, dt.Dropout(delta), per_example=True)
    tol = 1e-12 * (1 + np.abs(R))
    assert np.all(
        np.abs(R - Rq) <= lagrange_bound(X, beta, delta, per_example=True) + tol
    )
    lo, hi = second_order_bounds(X, beta, delta)
    assert np.all((R - Rq >= lo - tol) & (R - Rq <= hi + tol))
    assert np.all(R >= confident_lower_bound(X, beta, delta) - tol)


def test_lagrange_bound_is_nearly_tight_for_small_skewed_noise():
    """Score at z* (undropped intercept), one tiny dropped feature, small delta:
    error / bound -> |E u^3| / E|u|^3, close to 1 for the skewed two-point u."""
    eps, delta = 1e-3, 0.02
    X, beta = np.array([[1.0, 1.0]]), np.array([ARGMAX_THIRD_DERIVATIVE - eps, eps])
    noisy = np.array([False, True])
    rq = dt.quadratic_regularizer(X, beta, dt.Dropout(delta, noisy=noisy))
    err = abs(exact_penalty(X, beta, delta, noisy) - rq)
    assert 0.95 < err / lagrange_bound(X, beta, delta, noisy) <= 1


def test_lyapunov_fallback_for_large_d():
    rng = np.random.default_rng(1)
    X, beta = rng.normal(size=(3, 22)), 0.1 * rng.normal(size=22)
    small = lagrange_bound(X[:, :20], beta[:20], 0.3, per_example=True)
    lyapunov = (
        SUP_THIRD_DERIVATIVE / 6 * fourth_moment(X[:, :20], beta[:20], 0.3) ** 0.75
    )
    assert np.all(small <= lyapunov + 1e-15)
    assert np.all(np.isfinite(lagrange_bound(X, beta, 0.3, per_example=True)))


def test_binary_entropy():
    z = np.array([-800.0, -3.0, 0.0, 0.5, 40.0, 800.0])

    def entropy(v):
        with mpmath.workdps(50):
            q = 1 / (1 + mpmath.exp(-mpmath.mpf(v)))
            return float(-(q * mpmath.log(q) + (1 - q) * mpmath.log(1 - q)))

    np.testing.assert_allclose(
        binary_entropy_of_score(z)[1:-1], [entropy(v) for v in z[1:-1]], rtol=1e-12
    )
    assert binary_entropy_of_score(np.array([0.0]))[0] == pytest.approx(
        math.log(2), rel=1e-15
    )
    assert binary_entropy_of_score(np.array([800.0]))[0] >= 0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="delta"):
        lagrange_bound(np.ones((2, 2)), np.ones(2), -0.1)
    with pytest.raises(ValueError, match="noisy"):
        lagrange_bound(
            np.ones((2, 2)), np.ones(2), dt.Dropout(0.3), noisy=[True, False]
        )


def test_lagrange_bound_holds_for_all_noise_models():
    """Chapter 2's use (theorem thm-quadratic, part 2): dropout and both Gaussian models."""
    rng = np.random.default_rng(7)
    for noise in (
        dt.Dropout(0.6),
        dt.AdditiveGaussian(1.5),
        dt.MultiplicativeGaussian(0.3),
    ):
        X, beta = rng.normal(size=(5, 4)), 2 * rng.normal(size=4)
        gap = abs(
            dt.exact_regularizer(X, beta, noise)
            - dt.quadratic_regularizer(X, beta, noise)
        )
        assert gap <= lagrange_bound(X, beta, noise)


def test_lagrange_bound_gaussian_third_moment():
    # E|N(0, s^2)|^3 = 2 sqrt(2/pi) s^3, checked by mpmath quadrature
    X, beta = np.array([[1.0, 2.0]]), np.array([0.5, -0.25])
    noise = dt.AdditiveGaussian(0.8)
    s = 0.8 * np.sqrt(beta @ beta)
    with mpmath.workdps(25):
        third = mpmath.quad(
            lambda x: abs(x) ** 3 * mpmath.npdf(x, 0, s), [-mpmath.inf, 0, mpmath.inf]
        )
    expected = SUP_THIRD_DERIVATIVE / 6 * float(third)
    assert np.isclose(lagrange_bound(X, beta, noise), expected, rtol=1e-12)


def test_dropout_model_and_rate_give_the_same_bound():
    """A Dropout model with a noisy mask equals the (rate, noisy) call, and both equal the
    bound computed from the model's own atom enumeration."""
    rng = np.random.default_rng(5)
    X, beta = np.c_[np.ones(6), rng.normal(size=(6, 4))], rng.normal(size=5)
    noisy = np.r_[False, np.ones(4, bool)]
    model = dt.Dropout(0.35, noisy=noisy)
    atoms, prob = model.atoms(X, beta)
    from_atoms = SUP_THIRD_DERIVATIVE / 6 * (np.abs(atoms) ** 3 @ prob)
    by_model = lagrange_bound(X, beta, model, per_example=True)
    by_rate = lagrange_bound(X, beta, 0.35, noisy, per_example=True)
    np.testing.assert_allclose(by_model, from_atoms, rtol=1e-12)
    np.testing.assert_array_equal(by_model, by_rate)

"""Closed forms of the exact penalty (dropout_taylor.closed_forms) against independent oracles:
mask enumeration, mpmath quadrature at high precision and finite-difference Hessians
(chapter 2)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import dropout_taylor as dt
from dropout_taylor import closed_forms as cf


def _intercept_design(z, contributions):
    a = np.asarray(contributions, dtype=float)
    X = np.ones((1, a.size + 1))
    beta = np.concatenate([[z - a.sum()], a])
    return X, beta, np.arange(a.size + 1) > 0


@pytest.mark.parametrize("d", [1, 2, 5, 9])
@pytest.mark.parametrize("delta", [0.0, 0.15, 0.5, 0.85])
@pytest.mark.parametrize("z", [1.3, -2.1])
def test_equal_contributions_against_enumeration(d, delta, z):
    a = 0.7
    X, beta, noisy = _intercept_design(z, np.full(d, a))
    noise = dt.Dropout(delta, noisy=noisy)
    for A in (dt.logistic, dt.poisson, dt.linear):
        exact = dt.exact_regularizer(X, beta, noise, A=A)
        ours = cf.equal_contributions_regularizer(z, a, d, delta, A)
        assert np.isclose(ours, exact, rtol=1e-12, atol=1e-15)
        quad = dt.quadratic_regularizer(X, beta, noise, A=A)
        assert np.isclose(cf.equal_contributions_quadratic(z, a, d, delta, A), quad, rtol=1e-13, atol=1e-16)


def _mp_equal_penalty(z: float, a: float, d: int, delta: float) -> float:
    """The binomial sum for softplus at 50 digits, taken directly at z (no symmetry trick)."""
    with mpmath.workdps(50):
        r = mpmath.mpf(delta) / (1 - mpmath.mpf(delta))
        sp = lambda w: mpmath.log1p(mpmath.exp(w))  # noqa: E731
        total = mpmath.fsum(
            mpmath.binomial(d, k) * (1 - mpmath.mpf(delta)) ** k * mpmath.mpf(delta) ** (d - k)
            * sp(z + a * ((1 + r) * k - d))
            for k in range(d + 1)
        )
        return float(total - sp(z))


@pytest.mark.parametrize("z", [12.0, 30.0, -30.0])
def test_equal_contributions_keep_relative_accuracy_for_confident_examples(z):
    for delta in (0.3, 0.7):
        ours = float(cf.equal_contributions_regularizer(z, z / 4, 4, delta))
        assert np.isclose(ours, _mp_equal_penalty(z, z / 4, 4, delta), rtol=1e-12)


def _mp_gauss_penalty(z: float, s: float) -> float:
    """E A(z + s xi) - A(z) by mpmath quad at 60 digits, taken directly at z."""
    with mpmath.workdps(60):

        def integrand(x):
            gap = mpmath.log1p(mpmath.exp(z + s * x)) - mpmath.log1p(mpmath.exp(z))
            return gap * mpmath.exp(-x * x / 2)

        return float(mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf]) / mpmath.sqrt(2 * mpmath.pi))


def test_gaussian_regularizer_keeps_relative_accuracy_for_confident_examples():
    s = 1.3
    for z in (-40.0, 0.3, 25.0, 40.0):
        assert np.isclose(cf.gaussian_regularizer(z, s), _mp_gauss_penalty(z, s), rtol=1e-10)


def test_gaussian_regularizer_matches_the_design_matrix_version():
    # one call on a grid of (z, s) against dt.exact_regularizer one scale at a time
    z = np.array([-3.0, 0.0, 0.4, 6.0])
    for s in (0.2, 1.0, 2.5):
        noise = dt.AdditiveGaussian(s)
        expected = dt.exact_regularizer(z[:, None], np.array([1.0]), noise, per_example=True)
        assert np.allclose(cf.gaussian_regularizer(z, s), expected, rtol=1e-13)
    grid = cf.gaussian_regularizer(z[None, :], np.array([[0.2], [1.0]]))
    assert grid.shape == (2, 4)


def test_poisson_closed_forms():
    rng = np.random.default_rng(6)
    X, beta = 0.5 * rng.normal(size=(4, 5)), 0.5 * rng.normal(size=5)
    for delta in (0.0, 0.2, 0.7):
        enumerated = dt.exact_regularizer(X, beta, dt.Dropout(delta), A=dt.poisson, per_example=True)
        assert np.allclose(cf.poisson_dropout_regularizer(X, beta, delta), enumerated, rtol=1e-12, atol=1e-15)
    gauss = dt.AdditiveGaussian(0.8)
    s = np.sqrt(gauss.perturbation_variance(X, beta))
    quad = dt.exact_regularizer(X, beta, gauss, A=dt.poisson, per_example=True)
    assert np.allclose(cf.poisson_gaussian_regularizer(X @ beta, s), quad, rtol=1e-12)


def test_fisher_diagonal_is_the_hessian_of_the_clean_loss():
    rng = np.random.default_rng(5)
    X, beta = rng.normal(size=(20, 3)), rng.normal(size=3)

    def nll(b):
        return float(np.sum(np.logaddexp(0.0, X @ b)))  # the label term is linear: no curvature

    h = 1e-4
    hess_diag = np.array([(nll(beta + h * e) - 2 * nll(beta) + nll(beta - h * e)) / h**2 for e in np.eye(3)])
    assert np.allclose(cf.fisher_diagonal(X, beta), hess_diag, rtol=1e-5)


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (cf.equal_contributions_regularizer, {"z": 0.0, "a": 1.0, "d": 0, "delta": 0.5}),
        (cf.equal_contributions_regularizer, {"z": np.nan, "a": 1.0, "d": 2, "delta": 0.5}),
        (cf.equal_contributions_quadratic, {"z": 0.0, "a": 1.0, "d": 2, "delta": 1.0}),
        (cf.gaussian_regularizer, {"z": 0.0, "s": -1.0}),
        (cf.poisson_dropout_regularizer, {"X": np.ones((1, 2)), "beta": np.ones(2), "delta": -0.1}),
        (cf.poisson_gaussian_regularizer, {"z": 0.0, "s": -0.5}),
        (cf.fisher_diagonal, {"X": np.ones((2, 3)), "beta": np.ones(2)}),
    ],
)
def test_bad_input(call, kwargs):
    with pytest.raises(ValueError):
        call(**kwargs)

"""The oracles of chapter 2 (dropout_taylor.quadratic_oracles) against values known by hand and
against other independent computations (scipy quadrature, plain sums)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy import integrate

from dropout_taylor import quadratic_oracles as oracle


def test_score_perturbation_moments_for_one_feature():
    moments = oracle.score_perturbation_moments(1)
    a1, b1 = sp.Symbol("a1", real=True), sp.Symbol("beta1", real=True)
    delta, sigma, r = oracle.DELTA, oracle.SIGMA, oracle.R_VAR
    # one feature: Bernoulli(1 - delta) / (1 - delta) has variance delta / (1 - delta)
    expected = {
        "dropout": a1**2 * delta / (1 - delta),
        "additive": sigma**2 * b1**2,
        "multiplicative": r * a1**2,
    }
    for name, (mean, var) in moments.items():
        assert mean == 0
        assert sp.simplify(var - expected[name]) == 0


def test_dropout_unit_moments_by_hand():
    # u = r with probability 1 - delta, -1 with probability delta: sum the two atoms
    delta = oracle.DELTA
    r = delta / (1 - delta)
    by_hand = [(1 - delta) * r**k + delta * (-1) ** k for k in range(1, 5)]
    for got, want in zip(oracle.dropout_unit_moments(4), by_hand, strict=True):
        assert sp.simplify(got - want) == 0


def test_mgfs_at_numbers():
    mgf = oracle.dropout_unit_mgf().subs({oracle.DELTA: sp.Rational(3, 10), oracle.X_POINT: 2})
    r = 0.3 / 0.7
    assert np.isclose(float(mgf), 0.3 * np.exp(-2) + 0.7 * np.exp(2 * r), rtol=1e-14)
    normal = oracle.normal_mgf().subs(oracle.S_SCALE, sp.Rational(3, 2))
    assert np.isclose(float(normal), np.exp(9 / 8), rtol=1e-14)


def test_central_hessian_diagonal_of_a_quadratic_form():
    H = np.array([[2.0, 0.5], [0.5, -3.0]])
    diag = oracle.central_hessian_diagonal(lambda x: 0.5 * x @ H @ x + x.sum(), np.array([0.3, -1.2]), 1e-3)
    assert np.allclose(diag, np.diag(H), rtol=1e-8)


@pytest.mark.parametrize(("z", "s"), [(0.0, 1.0), (2.5, 0.4), (-3.0, 2.0)])
def test_mp_gaussian_penalty_against_scipy_quad(z, s):
    def integrand(x):
        return (np.logaddexp(0, z + s * x) - np.logaddexp(0, z)) * np.exp(-x * x / 2) / np.sqrt(2 * np.pi)

    value, _ = integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-12)
    assert np.isclose(float(oracle.mp_gaussian_penalty(z, s)), value, rtol=1e-9)


def test_bad_input():
    with pytest.raises(ValueError):
        oracle.score_perturbation_moments(0)
    with pytest.raises(ValueError):
        oracle.dropout_unit_moments(0)
    with pytest.raises(ValueError):
        oracle.central_hessian_diagonal(np.sum, np.zeros(2), 0.0)
    with pytest.raises(ValueError):
        oracle.mp_gaussian_penalty(1.0, -1.0)
    with pytest.raises(ValueError):
        oracle.mp_gaussian_penalty(1.0, 1.0, dps=5)

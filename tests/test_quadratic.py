"""The quadratic regulariser R^q (dropout_taylor.regularizers) against independent oracles:
a finite-difference second derivative of the exact penalty in the noise amplitude
(dropout_taylor.quadratic_error), closed forms, and finite-difference Hessians of the clean
loss (chapter 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dropout_taylor as dt
from dropout_taylor import quadratic_error as qe

MODELS = [dt.Dropout(0.3), dt.Dropout(0.8), dt.AdditiveGaussian(0.7), dt.MultiplicativeGaussian(0.6)]


def _second_difference(X, beta, noise, A, h=1e-3):
    """(R_h - 2 R_0 + R_{-h}) / h^2 at amplitude 0 (R_0 = 0): the curvature, = 2 R^q."""
    plus = qe.amplitude_regularizer(X, beta, noise, h, A)
    return (plus + qe.amplitude_regularizer(X, beta, noise, -h, A)) / h**2


@pytest.mark.parametrize("noise", MODELS, ids=repr)
@pytest.mark.parametrize("A", [dt.logistic, dt.poisson, dt.linear], ids=lambda a: a.name)
def test_rq_is_half_the_curvature_in_the_amplitude(noise, A):
    rng = np.random.default_rng(3)
    X, beta = rng.normal(size=(5, 6)), 0.5 * rng.normal(size=6)
    curvature = _second_difference(X, beta, noise, A)
    assert np.isclose(dt.quadratic_regularizer(X, beta, noise, A), curvature / 2, rtol=1e-5)


def test_rq_is_a_finite_difference_second_derivative_of_A():
    # 1/2 A''(z) Var Delta with A'' from a central difference of softplus itself
    rng = np.random.default_rng(4)
    X, beta = rng.normal(size=(7, 4)), rng.normal(size=4)
    noise = dt.Dropout(0.4)
    z, h = X @ beta, 1e-3
    a2 = (dt.softplus(z + h) - 2 * dt.softplus(z) + dt.softplus(z - h)) / h**2
    expected = 0.5 * a2 * noise.r * np.sum((X * beta) ** 2, axis=1)
    assert np.allclose(dt.quadratic_regularizer(X, beta, noise, per_example=True), expected, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.floats(0.0, 0.95), st.integers(0, 2**31))
def test_linear_regression_exact(d, delta, seed):
    rng = np.random.default_rng(seed)
    X, beta = rng.normal(size=(3, d)), rng.normal(size=d)
    noise = dt.Dropout(delta)
    exact = dt.exact_regularizer(X, beta, noise, A=dt.linear)
    assert np.isclose(dt.quadratic_regularizer(X, beta, noise, A=dt.linear), exact, rtol=1e-11, atol=1e-13)


def test_fisher_form():
    # R^q = r/2 sum_j I_jj beta_j^2 with I the Hessian of the clean NLL (finite differences)
    rng = np.random.default_rng(5)
    X, beta = rng.normal(size=(20, 3)), rng.normal(size=3)

    def nll(b):
        return float(np.sum(np.logaddexp(0.0, X @ b)))  # label term is linear: no curvature

    h = 1e-4
    hess_diag = np.array(
        [(nll(beta + h * e) - 2 * nll(beta) + nll(beta - h * e)) / h**2 for e in np.eye(3)]
    )
    noise = dt.Dropout(0.25)
    assert np.isclose(
        dt.quadratic_regularizer(X, beta, noise), noise.r / 2 * np.sum(hess_diag * beta**2), rtol=1e-5
    )

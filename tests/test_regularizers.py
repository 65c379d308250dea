"""The exact regulariser R and the quadratic R^q: linear-regression exactness, Jensen,
symmetries (hypothesis) and the Gaussian models against mpmath quadrature."""

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dropout_taylor as dt

finite = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw, max_d=6):
    d = draw(st.integers(1, max_d))
    n = draw(st.integers(1, 4))
    X = draw(arrays(float, (n, d), elements=finite))
    beta = draw(arrays(float, (d,), elements=finite))
    return X, beta


noise_models = st.one_of(
    st.floats(0, 0.95).map(dt.Dropout),
    st.floats(0, 2).map(dt.AdditiveGaussian),
    st.floats(0, 0.95).map(dt.MultiplicativeGaussian),
)


@given(problems(), st.floats(0, 0.95))
def test_linear_regression_R_equals_Rq(problem, delta):
    X, beta = problem
    model = dt.Dropout(delta)
    exact = dt.exact_regularizer(X, beta, model, A=dt.linear)
    quadratic = dt.quadratic_regularizer(X, beta, model, A=dt.linear)
    closed = 0.5 * model.r * np.sum(beta**2 * np.sum(X**2, axis=0))
    assert exact == pytest.approx(closed, rel=1e-12, abs=1e-12 * (1 + np.sum((X * beta) ** 2)))
    assert quadratic == pytest.approx(closed, rel=1e-12, abs=1e-300)


@given(problems(), noise_models)
def test_jensen_R_is_nonnegative(problem, model):
    X, beta = problem
    assert np.all(dt.exact_regularizer(X, beta, model, per_example=True) >= -1e-12)


@given(problems(), st.floats(0, 0.95), st.randoms(use_true_random=False))
def test_symmetries_of_dropout_R(problem, delta, random):
    X, beta = problem
    model = dt.Dropout(delta)
    R = dt.exact_regularizer(X, beta, model)
    tol = dict(rel=1e-9, abs=1e-12)
    # logistic: softplus(-z) = softplus(z) - z and E Delta = 0 give R(-beta) = R(beta)
    assert dt.exact_regularizer(X, -beta, model) == pytest.approx(R, **tol)
    # relabelling features, or flipping the sign of a feature and its weight, changes nothing
    perm = list(range(X.shape[1]))
    random.shuffle(perm)
    assert dt.exact_regularizer(X[:, perm], beta[perm], model) == pytest.approx(R, **tol)
    flip = np.where(np.arange(X.shape[1]) % 2 == 0, -1.0, 1.0)
    assert dt.exact_regularizer(X * flip, beta * flip, model) == pytest.approx(R, **tol)


@pytest.mark.parametrize("model", [dt.AdditiveGaussian(0.7), dt.MultiplicativeGaussian(0.4)])
def test_gaussian_R_against_mpmath_quadrature(model):
    X = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]])
    beta = np.array([0.8, -0.4, 1.1])
    ours = dt.exact_regularizer(X, beta, model, per_example=True)
    z = X @ beta
    sd = np.sqrt(model.perturbation_variance(X, beta))
    with mpmath.workdps(30):
        for i in range(2):
            def integrand(u, i=i):
                w = mpmath.mpf(z[i]) + mpmath.mpf(sd[i]) * u
                return mpmath.log1p(mpmath.exp(w)) * mpmath.npdf(u)

            ref = mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf]) - mpmath.log1p(mpmath.exp(z[i]))
            assert ours[i] == pytest.approx(float(ref), rel=1e-10)


def test_quadratic_logistic_is_fisher_scaled_ridge():
    rng = np.random.default_rng(5)
    X, beta, delta = rng.normal(size=(30, 4)), rng.normal(size=4), 0.3
    p = dt.sigmoid(X @ beta)
    expected = 0.5 * delta / (1 - delta) * np.sum(beta**2 * np.sum((p * (1 - p))[:, None] * X**2, axis=0))
    assert dt.quadratic_regularizer(X, beta, dt.Dropout(delta)) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("z", [10.0, 20.0, 30.0, -30.0])
def test_confident_examples_keep_relative_accuracy(z):
    """R for a confident example is about e^-|z|: no cancellation against A(z) of size |z|."""
    X, beta = np.array([[z]]), np.array([1.0])
    model = dt.AdditiveGaussian(0.5)
    with mpmath.workdps(40):
        def integrand(u):
            return mpmath.log1p(mpmath.exp(mpmath.mpf(z) + mpmath.mpf(0.5) * u)) * mpmath.npdf(u)

        ref = mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf]) - mpmath.log1p(mpmath.exp(z))
    assert dt.exact_regularizer(X, beta, model) == pytest.approx(float(ref), rel=1e-9)
    # dropout: two atoms, exact in closed form
    d = dt.Dropout(0.5)
    exact = 0.5 * (mpmath.log1p(mpmath.exp(2 * z)) + mpmath.log1p(1)) - mpmath.log1p(mpmath.exp(z))
    assert dt.exact_regularizer(X, beta, d) == pytest.approx(float(exact), rel=1e-12)

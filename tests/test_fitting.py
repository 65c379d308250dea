"""Tests of dropout_taylor.fitting against independent oracles: scikit-learn's
LogisticRegression, the core's exact and quadratic regularisers, finite differences."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import dropout_taylor as dt
from dropout_taylor import fitting


@pytest.fixture(scope="module")
def cancer():
    return fitting.breast_cancer_design()


def small_problem(seed=0, n=60, d=5):
    rng = np.random.default_rng(seed)
    X = np.hstack([np.ones((n, 1)), rng.standard_normal((n, d - 1))])
    beta = rng.standard_normal(d)
    y = (rng.random(n) < dt.sigmoid(X @ beta)).astype(float)
    noisy = np.arange(d) > 0
    return X, y, noisy


def finite_difference(objective, beta, h=1e-6):
    grad = np.zeros_like(beta)
    for j in range(beta.size):
        e = np.zeros_like(beta)
        e[j] = h
        grad[j] = (objective(beta + e)[0] - objective(beta - e)[0]) / (2 * h)
    return grad


def test_breast_cancer_design(cancer):
    X, y, noisy = cancer
    assert X.shape == (569, 31) and y.shape == (569,)
    assert np.all(X[:, 0] == 1) and not noisy[0] and noisy[1:].all()
    np.testing.assert_allclose(X[:, 1:].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X[:, 1:].std(axis=0), 1, rtol=1e-12)
    assert set(np.unique(y)) == {0.0, 1.0}


@pytest.mark.parametrize("lam", [0.1, 1.0, 10.0])
def test_fit_l2_matches_sklearn_with_free_intercept(cancer, lam):
    X, y, noisy = cancer
    beta = fitting.fit_l2(X, y, lam, penalize=noisy)
    sk = LogisticRegression(C=1 / lam, solver="newton-cholesky", tol=1e-14, max_iter=1000).fit(X[:, 1:], y)
    np.testing.assert_allclose(beta[1:], sk.coef_[0], atol=1e-6, rtol=0)
    np.testing.assert_allclose(beta[0], sk.intercept_[0], atol=1e-6, rtol=0)


def test_fit_l2_matches_sklearn_without_intercept():
    X, y, _ = small_problem(3, n=200, d=6)
    beta = fitting.fit_l2(X, y, 2.0)
    sk = LogisticRegression(C=0.5, fit_intercept=False, solver="newton-cholesky", tol=1e-14).fit(X, y)
    np.testing.assert_allclose(beta, sk.coef_[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("delta", [0.1, 0.5, 0.8])
def test_objective_gradients_match_finite_differences(delta):
    X, y, noisy = small_problem(1)
    beta = np.random.default_rng(2).standard_normal(X.shape[1]) * 0.7
    objectives = [
        fitting.l2_objective(X, y, 0.3, noisy),
        fitting.quadratic_objective(X, y, delta, noisy),
        fitting.dropout_objective(X, y, delta, np.random.default_rng(0), 7, noisy),
        fitting.dropout_objective_exact(X, y, delta, noisy),
    ]
    for objective in objectives:
        fd = finite_difference(objective, beta)
        np.testing.assert_allclose(objective(beta)[1], fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("delta", [0.25, 0.6])
def test_objectives_equal_clean_loss_plus_core_regularisers(delta):
    X, y, noisy = small_problem(4)
    beta = np.random.default_rng(5).standard_normal(X.shape[1])
    clean = float(np.sum(dt.softplus(X @ beta) - y * (X @ beta)))
    noise = dt.Dropout(delta, noisy=noisy)
    exact = fitting.dropout_objective_exact(X, y, delta, noisy)(beta)[0]
    quad = fitting.quadratic_objective(X, y, delta, noisy)(beta)[0]
    np.testing.assert_allclose(exact, clean + dt.exact_regularizer(X, beta, noise), rtol=1e-12)
    np.testing.assert_allclose(quad, clean + dt.quadratic_regularizer(X, beta, noise), rtol=1e-12)


def test_monte_carlo_objective_is_unbiased():
    # The mean over independent mask sets of the MC objective approaches the exact one.
    X, y, noisy = small_problem(6, n=30, d=4)
    beta = np.array([0.3, 1.5, -2.0, 0.8])
    exact = fitting.dropout_objective_exact(X, y, 0.5, noisy)(beta)[0]
    draws = [
        fitting.dropout_objective(X, y, 0.5, np.random.default_rng(s), 20, noisy)(beta)[0] for s in range(40)
    ]
    se = np.std(draws, ddof=1) / np.sqrt(len(draws))
    assert abs(np.mean(draws) - exact) < 4 * se


def test_fit_dropout_monte_carlo_approaches_exact_fit():
    X, y, noisy = small_problem(7, n=150, d=5)
    exact = fitting.fit_dropout_exact(X, y, 0.5, noisy)
    mc = fitting.fit_dropout(X, y, 0.5, np.random.default_rng(0), 2000, noisy)
    np.testing.assert_allclose(mc, exact, atol=0.05 * np.max(np.abs(exact)))


def test_fits_are_stationary_and_deterministic(cancer):
    X, y, noisy = cancer
    for delta in (0.25, 0.5):
        b1 = fitting.fit_dropout(X, y, delta, np.random.default_rng(11), 16, noisy)
        b2 = fitting.fit_dropout(X, y, delta, np.random.default_rng(11), 16, noisy)
        np.testing.assert_array_equal(b1, b2)
        grad = fitting.dropout_objective(X, y, delta, np.random.default_rng(11), 16, noisy)(b1)[1]
        assert np.max(np.abs(grad)) < 1e-4
        bq = fitting.fit_quadratic(X, y, delta, noisy)
        assert np.max(np.abs(fitting.quadratic_objective(X, y, delta, noisy)(bq)[1])) < 1e-4
    b = fitting.fit_l2(X, y, 1.0, noisy)
    assert np.max(np.abs(fitting.l2_objective(X, y, 1.0, noisy)(b)[1])) < 1e-7


def test_delta_zero_dropout_is_the_unpenalised_fit():
    X, y, noisy = small_problem(8, n=200, d=4)
    np.testing.assert_allclose(
        fitting.fit_dropout_exact(X, y, 0.0, noisy), fitting.fit_l2(X, y, 0.0), atol=1e-5
    )


def test_bad_input_raises():
    X, y, noisy = small_problem()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="y must contain only"):
        fitting.fit_l2(X, 2 * y, 1.0)
    with pytest.raises(ValueError, match="y must have one label"):
        fitting.fit_l2(X, y[:-1], 1.0)
    with pytest.raises(ValueError, match="lam"):
        fitting.fit_l2(X, y, -1.0)
    with pytest.raises(ValueError, match="penalize"):
        fitting.fit_l2(X, y, 1.0, penalize=np.ones(2, dtype=bool))
    with pytest.raises(ValueError, match="delta"):
        fitting.fit_quadratic(X, y, 1.0)
    with pytest.raises(ValueError, match="n_masks"):
        fitting.fit_dropout(X, y, 0.5, rng, 0)
    with pytest.raises(ValueError, match="rng"):
        fitting.fit_dropout(X, y, 0.5, 0, 5)
    with pytest.raises(ValueError, match="noisy"):
        fitting.fit_dropout_exact(np.ones((3, 21)), np.array([0.0, 1.0, 1.0]), 0.5)
    with pytest.raises(ValueError, match="finite"):
        fitting.fit_l2(np.full_like(X, np.nan), y, 1.0)


def test_fit_in_l2_ball_matches_constrained_solver():
    from scipy import optimize

    X, y, noisy = small_problem(9, n=120, d=4)
    free = fitting.fit_l2(X, y, 1e-9, noisy)
    t = 0.5 * np.linalg.norm(free[noisy])
    beta = fitting.fit_in_l2_ball(X, y, t, noisy)
    assert np.linalg.norm(beta[noisy]) == pytest.approx(t, rel=1e-9)
    assert np.linalg.norm(beta[noisy]) <= t
    loss = fitting.l2_objective(X, y, 0.0)
    ref = optimize.minimize(
        loss, np.zeros(4), jac=True, method="SLSQP",
        constraints=[{"type": "ineq", "fun": lambda b: t**2 - np.sum(b[noisy] ** 2)}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    np.testing.assert_allclose(beta, ref.x, atol=1e-5)
    # an inactive constraint returns the (nearly) unconstrained fit
    wide = fitting.fit_in_l2_ball(X, y, 10 * np.linalg.norm(free[noisy]), noisy)
    np.testing.assert_allclose(wide, free, atol=1e-4)
    with pytest.raises(ValueError, match="t must be"):
        fitting.fit_in_l2_ball(X, y, 0.0, noisy)


def test_matched_l2_lambda_by_hand_and_against_rq():
    X, y, noisy = small_problem(seed=3)
    beta, delta = np.array([0.2, -0.5, 0.3, 0.8, -0.1]), 0.4
    p = 1 / (1 + np.exp(-(X @ beta)))
    r = delta / (1 - delta)
    by_hand = r * np.mean([np.sum(p * (1 - p) * X[:, j] ** 2) for j in range(1, 5)])
    lam = fitting.matched_l2_lambda(X, beta, delta, noisy)
    assert lam == pytest.approx(by_hand, rel=1e-12)
    # with all dropped weights equal, lam/2 ||beta_N||^2 is R^q of the core (per example, summed)
    flat = np.array([0.0, 0.7, 0.7, 0.7, 0.7])
    rq = dt.quadratic_regularizer(X, flat, dt.Dropout(delta, noisy=noisy))
    lam_flat = fitting.matched_l2_lambda(X, flat, delta, noisy)
    assert lam_flat / 2 * np.sum(flat[noisy] ** 2) == pytest.approx(rq, rel=1e-10)
    with pytest.raises(ValueError, match="delta"):
        fitting.matched_l2_lambda(X, beta, 1.0, noisy)
    with pytest.raises(ValueError, match="at least one"):
        fitting.matched_l2_lambda(X, beta, 0.5, np.zeros(5, bool))

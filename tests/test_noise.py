"""Noise models: the exact dropout distribution against a plain loop over masks, moments,
closed-form extremes, samplers, and bad input."""

import itertools

import numpy as np
import pytest

import dropout_taylor as dt


def _loop_distribution(x, beta, delta):
    """Plain itertools loop: every mask, its probability and the perturbation it causes."""
    values, probs = [], []
    for mask in itertools.product([0, 1], repeat=len(x)):
        m = np.array(mask)
        probs.append(np.prod(np.where(m == 1, 1 - delta, delta)))
        values.append((x * m / (1 - delta) - x) @ beta)
    return np.array(values), np.array(probs)


@pytest.mark.parametrize("seed", range(12))
def test_atoms_match_plain_loop(seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 9))
    x, beta, delta = rng.normal(size=d), rng.normal(size=d), float(rng.uniform(0, 0.9))
    values, probs = dt.Dropout(delta).atoms(x, beta)
    ref_values, ref_probs = _loop_distribution(x, beta, delta)
    order, ref_order = np.lexsort((probs, values[0])), np.lexsort((ref_probs, ref_values))
    np.testing.assert_allclose(values[0][order], ref_values[ref_order], atol=1e-12)
    np.testing.assert_allclose(probs[order], ref_probs[ref_order], rtol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_expectation_engine_matches_plain_loop(seed):
    rng = np.random.default_rng(100 + seed)
    n, d = 7, int(rng.integers(1, 11))
    X, beta, delta = rng.normal(size=(n, d)), 2 * rng.normal(size=d), float(rng.uniform(0.05, 0.9))
    ours = dt.Dropout(delta).expect(dt.softplus, X, beta)
    for i in range(n):
        values, probs = _loop_distribution(X[i], beta, delta)
        assert ours[i] == pytest.approx(probs @ np.logaddexp(0, X[i] @ beta + values), rel=1e-12)


def test_blocks_do_not_change_the_result(monkeypatch):
    rng = np.random.default_rng(7)
    X, beta = rng.normal(size=(5, 12)), rng.normal(size=12)
    whole = dt.Dropout(0.3).expect(dt.softplus, X, beta)
    monkeypatch.setattr(dt.noise, "_BLOCK_FLOATS", 64)
    np.testing.assert_allclose(dt.Dropout(0.3).expect(dt.softplus, X, beta), whole, rtol=1e-13)


def test_extremes_match_enumeration_and_noisy_mask():
    rng = np.random.default_rng(3)
    X, beta = rng.normal(size=(20, 6)), rng.normal(size=6)
    noisy = np.array([True, True, False, True, True, True])
    model = dt.Dropout(0.35, noisy=noisy)
    values, probs = model.atoms(X, beta)
    low, high = model.extreme_perturbations(X, beta)
    np.testing.assert_allclose(low, values.min(axis=1), atol=1e-12)
    np.testing.assert_allclose(high, values.max(axis=1), atol=1e-12)
    assert values.shape == (20, 2**5)
    assert probs.sum() == pytest.approx(1.0)
    # the untouched feature never moves
    sample = model.sample_X(X, rng)
    np.testing.assert_array_equal(sample[:, 2], X[:, 2])


def test_variances_and_zero_mean():
    rng = np.random.default_rng(4)
    X, beta = rng.normal(size=(6, 5)), rng.normal(size=5)
    values, probs = dt.Dropout(0.25).atoms(X, beta)
    np.testing.assert_allclose(values @ probs, 0.0, atol=1e-12)
    np.testing.assert_allclose(values**2 @ probs, dt.Dropout(0.25).perturbation_variance(X, beta))
    np.testing.assert_allclose(
        dt.MultiplicativeGaussian(0.25).perturbation_variance(X, beta),
        dt.Dropout(0.25).perturbation_variance(X, beta),
    )
    np.testing.assert_allclose(
        dt.AdditiveGaussian(0.5).perturbation_variance(X, beta), 0.25 * np.sum(beta**2)
    )


def test_zero_rate_means_no_noise():
    X, beta = np.ones((2, 3)), np.array([1.0, -2.0, 0.5])
    model = dt.Dropout(0.0)
    assert model.extreme_perturbations(X, beta)[1].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(model.expect(dt.softplus, X, beta), dt.softplus(X @ beta))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dt.Dropout(1.0), r"delta must be a real number in \[0, 1\)"),
        (lambda: dt.Dropout(-0.1), r"delta must be a real number in \[0, 1\)"),
        (lambda: dt.Dropout(float("nan")), r"delta must be a real number in \[0, 1\)"),
        (lambda: dt.MultiplicativeGaussian(1.5), r"delta must be a real number in \[0, 1\)"),
        (lambda: dt.AdditiveGaussian(-1.0), "sigma must be a finite real number >= 0"),
        (lambda: dt.Dropout(0.5).atoms(np.ones((2, 3)), np.ones(4)), "X and beta do not match"),
        (lambda: dt.Dropout(0.5).atoms(np.ones((2, 21)), np.ones(21)), r"d in \[0, 20\]"),
        (lambda: dt.Dropout(0.5).atoms([[np.nan, 1.0]], [1.0, 1.0]), "X must be finite"),
        (lambda: dt.Dropout(0.5).atoms([[1.0, 1.0]], [np.inf, 1.0]), "beta must be finite"),
        (lambda: dt.Dropout(0.5, noisy=[1, 0]).atoms([[1.0, 1.0]], [1.0, 1.0]), "noisy must be"),
        (lambda: dt.enumerate_masks(21), r"d must be an integer in \[0, 20\]"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()

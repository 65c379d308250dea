"""Tests of dropout_taylor.penalty: the enumeration engine against the library's
exact_regularizer and a plain itertools loop, the gradients against finite differences, and
the Monte Carlo estimator's unbiasedness and variance reduction."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dropout_taylor as dt
from dropout_taylor.penalty import (
    exact_penalty,
    exact_penalty_and_grad,
    mc_penalty,
    mc_replicates,
    quadratic_penalty_and_grad,
)


def loop_penalty(X, beta, delta, noisy):
    """The definition, one mask at a time: sum_i sum_m P(m) A(s_i(m)) - A(z_i)."""
    total = 0.0
    idx = np.flatnonzero(noisy)
    for x in X:
        z = float(x @ beta)
        e = 0.0
        for m in itertools.product([0, 1], repeat=len(idx)):
            xt = x.copy()
            xt[idx] = x[idx] * np.array(m) / (1 - delta)
            p = math.prod((1 - delta) if k else delta for k in m)
            e += p * math.log1p(math.exp(float(xt @ beta)))
        total += e - math.log1p(math.exp(z))
    return total


def problem(seed, n, d, scale=1.0):
    rng = np.random.default_rng(seed)
    X = np.c_[rng.normal(size=(n, d)), np.ones(n)]
    beta = scale * rng.normal(size=d + 1)
    noisy = np.r_[np.ones(d, bool), False]
    return X, beta, noisy


@pytest.mark.parametrize("d", [0, 1, 3, 7])
def test_engine_matches_itertools_loop(d):
    X, beta, noisy = problem(d, 6, d)
    for delta in (0.0, 0.3, 0.5, 0.8):
        expected = loop_penalty(X, beta, delta, noisy)
        assert exact_penalty(X, beta, delta, noisy) == pytest.approx(
            expected, rel=1e-12, abs=1e-14
        )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    d=st.integers(1, 15),
    delta=st.floats(0.01, 0.95),
    scale=st.sampled_from([0.1, 1.0, 5.0]),
)
def test_engine_matches_library_regularizer(seed, d, delta, scale):
    X, beta, noisy = problem(seed, 9, d, scale)
    expected = dt.exact_regularizer(
        X, beta, dt.Dropout(delta, noisy=noisy), per_example=True
    )
    got = exact_penalty(X, beta, delta, noisy, per_example=True)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


def test_engine_crosses_the_block_split():
    """d above the low-feature split (12) and n above one block exercise the high-mask loop."""
    X, beta, noisy = problem(3, 40, 16, 0.4)
    expected = dt.exact_regularizer(X, beta, dt.Dropout(0.35, noisy=noisy))
    assert exact_penalty(X, beta, 0.35, noisy) == pytest.approx(expected, rel=1e-11)
    value, _ = exact_penalty_and_grad(X, beta, 0.35, noisy)
    assert value == pytest.approx(expected, rel=1e-11)


@pytest.mark.parametrize("d", [1, 5, 14])
def test_gradients_match_finite_differences(d):
    X, beta, noisy = problem(d + 10, 12, d, 0.7)
    h = 1e-6
    for fun in (exact_penalty_and_grad, quadratic_penalty_and_grad):
        _, g = fun(X, beta, 0.4, noisy)
        fd = [
            (fun(X, beta + h * e, 0.4, noisy)[0] - fun(X, beta - h * e, 0.4, noisy)[0])
            / (2 * h)
            for e in np.eye(len(beta))
        ]
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)


def test_quadratic_penalty_matches_library():
    X, beta, noisy = problem(5, 30, 6)
    value, _ = quadratic_penalty_and_grad(X, beta, 0.6, noisy)
    assert value == pytest.approx(
        dt.quadratic_regularizer(X, beta, dt.Dropout(0.6, noisy=noisy)), rel=1e-13
    )


@pytest.mark.parametrize("control", ["none", "taylor", "fitted"])
def test_monte_carlo_is_unbiased(control):
    X, beta, noisy = problem(11, 40, 10, 0.5)
    exact = exact_penalty(X, beta, 0.5, noisy)
    ests = [
        mc_penalty(X, beta, 0.5, np.random.default_rng(s), 32, noisy, control)
        for s in range(60)
    ]
    values = np.array([e.estimate for e in ests])
    se_of_mean = np.sqrt(np.mean([e.stderr**2 for e in ests]) / len(ests))
    assert abs(values.mean() - exact) < 3 * se_of_mean
    # the reported standard error matches the spread over seeds (within 30 %)
    assert np.std(values, ddof=1) == pytest.approx(
        np.sqrt(np.mean([e.stderr**2 for e in ests])), rel=0.3
    )


def test_control_variate_reduces_variance():
    X, beta, noisy = problem(12, 50, 12, 0.3)
    for control in ("taylor", "fitted"):
        est = mc_penalty(X, beta, 0.3, np.random.default_rng(0), 200, noisy, control)
        assert est.variance_reduction > 1
        plain = mc_penalty(X, beta, 0.3, np.random.default_rng(0), 200, noisy, "none")
        assert est.plain_stderr == pytest.approx(plain.stderr)


def test_bad_input_is_refused():
    X, beta, noisy = problem(0, 3, 2)
    with pytest.raises(ValueError, match="delta"):
        exact_penalty(X, beta, 1.0, noisy)
    with pytest.raises(ValueError, match="noisy features"):
        exact_penalty(np.ones((2, 21)), np.ones(21), 0.5)
    with pytest.raises(ValueError, match="n_masks"):
        mc_penalty(X, beta, 0.5, np.random.default_rng(0), 5, noisy)
    with pytest.raises(ValueError, match="control"):
        mc_penalty(X, beta, 0.5, np.random.default_rng(0), 4, noisy, "magic")
    with pytest.raises(ValueError, match="rng"):
        mc_penalty(X, beta, 0.5, 0, 4, noisy)


def test_mc_replicates_summarise_the_runs():
    X, beta, noisy = problem(31, 20, 6, 0.8)
    seeds = [(3, s) for s in range(12)]
    rep = mc_replicates(X, beta, 0.4, seeds, 8, noisy, "taylor")
    runs = [
        mc_penalty(X, beta, 0.4, np.random.default_rng(s), 8, noisy, "taylor")
        for s in seeds
    ]
    assert rep.runs == 12
    assert rep.mean == pytest.approx(np.mean([e.estimate for e in runs]), rel=1e-14)
    se = np.sqrt(np.mean([e.stderr**2 for e in runs]) / 12)
    assert rep.stderr == pytest.approx(se, rel=1e-14)
    assert abs(rep.mean - exact_penalty(X, beta, 0.4, noisy)) < 4 * rep.stderr
    with pytest.raises(ValueError, match="seeds"):
        mc_replicates(X, beta, 0.4, [1], 8, noisy)

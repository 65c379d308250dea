"""The error of R^q (dropout_taylor.quadratic_error) against independent oracles: mask
enumeration, mpmath at high precision, sympy series and brute-force grids (chapter 2)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import dropout_taylor as dt
from dropout_taylor import quadratic_error as qe


def test_single_example_layout():
    X, beta, noise = qe.single_example(1.5, [2.0, -1.0], 0.3)
    assert X.shape == (1, 3) and np.isclose(X @ beta, 1.5)
    assert noise.delta == 0.3 and list(noise.noisy) == [False, True, True]
    assert np.allclose(noise.contributions(X, beta), [[2.0, -1.0]])


def test_random_problems_are_deterministic_and_cover_three_models():
    first = [qe.random_problem(seed) for seed in range(6)]
    again = [qe.random_problem(seed) for seed in range(6)]
    for (X1, b1, n1), (X2, b2, n2) in zip(first, again, strict=True):
        assert np.array_equal(X1, X2) and np.array_equal(b1, b2) and n1 == n2
    assert {type(p[2]).__name__ for p in first} == {"Dropout", "AdditiveGaussian", "MultiplicativeGaussian"}
    z, a, delta = qe.random_dropout_example(3)
    assert -4 <= z <= 4 and 1 <= a.size <= 6 and 0.05 <= delta <= 0.9


def test_amplitude_one_is_the_exact_penalty():
    rng = np.random.default_rng(11)
    X, beta = rng.normal(size=(3, 4)), rng.normal(size=4)
    for noise in (dt.Dropout(0.4), dt.AdditiveGaussian(0.5)):
        assert np.isclose(qe.amplitude_regularizer(X, beta, noise, 1.0), dt.exact_regularizer(X, beta, noise))


def test_amplitude_curvature_is_rq():
    rng = np.random.default_rng(12)
    X, beta = rng.normal(size=(4, 3)), 0.7 * rng.normal(size=3)
    for noise in (dt.Dropout(0.3), dt.MultiplicativeGaussian(0.5)):
        curvature = qe.amplitude_curvature(X, beta, noise, h=1e-3)
        assert np.isclose(curvature, dt.quadratic_regularizer(X, beta, noise), rtol=1e-5)


def _mp_cubic_term(z, a, delta):
    """1/6 A'''(z) E Delta^3 with E Delta^3 summed over all 2^d masks at 30 digits."""
    with mpmath.workdps(30):
        r = mpmath.mpf(delta) / (1 - mpmath.mpf(delta))
        third = mpmath.mpf(0)
        for mask in range(2 ** len(a)):
            kept = [(mask >> j) & 1 for j in range(len(a))]
            prob = mpmath.fprod((1 - mpmath.mpf(delta)) if k else mpmath.mpf(delta) for k in kept)
            shift = mpmath.fsum(aj * (r if k else -1) for aj, k in zip(a, kept, strict=True))
            third += prob * shift**3
        return float(dt.softplus_derivative_mp(z, 3) * third / 6)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_third_order_term_and_odd_coefficient(seed):
    z, a, delta = qe.random_dropout_example(seed)
    oracle = _mp_cubic_term(z, a, delta)
    assert np.isclose(qe.dropout_third_order_term(z, a, delta), oracle, rtol=1e-10, atol=1e-14)
    measured = qe.amplitude_odd_coefficient(*qe.single_example(z, a, delta), t=3e-3)
    assert np.isclose(measured, oracle, rtol=1e-3, atol=1e-7)


def test_small_rate_ratio_is_the_limit():
    rng = np.random.default_rng(2)
    z, a = 0.6, rng.normal(size=4) * 1.5
    limit = float(qe.small_rate_ratio(z, a))
    ratios = []
    for delta in (1e-3, 1e-4):
        example = qe.single_example(z, a, delta)
        ratios.append(dt.exact_regularizer(*example) / dt.quadratic_regularizer(*example))
    assert abs(ratios[1] - limit) < abs(ratios[0] - limit) / 5  # O(delta) convergence
    assert abs(ratios[1] / limit - 1) < 1e-3


def test_gaussian_fourth_order_term_and_error():
    for z in (0.0, 0.9, 2.5):
        s = 1e-2
        gap = -float(qe.gaussian_quadratic_error(z, s))
        assert np.isclose(gap, qe.gaussian_fourth_order_term(z, s), rtol=1e-3)


def test_small_score_bracket_against_a_sympy_series():
    # R^q - R for d equal contributions z/d, expanded by sympy to order z^4, at several rates
    z, dl = sp.symbols("z delta", positive=True)
    w = sp.Symbol("w")
    A = sp.log(1 + sp.exp(w))
    for d in (1, 3):
        r = dl / (1 - dl)
        a = z / d
        exact = sum(
            sp.binomial(d, k) * (1 - dl) ** k * dl ** (d - k) * A.subs(w, z + a * ((1 + r) * k - d))
            for k in range(d + 1)
        ) - A.subs(w, z)
        quad = sp.diff(A, w, 2).subs(w, z) / 2 * r * d * a**2
        coeff = sp.series(quad - exact, z, 0, 5).removeO().coeff(z, 4)
        for delta in (0.1, 0.4, 0.8):
            expected = float(coeff.subs(dl, sp.Rational(str(delta))))
            assert np.isclose(qe.small_score_bracket(delta, d) / (192 * d**3), expected, rtol=1e-12)


def test_small_score_threshold_and_exact_sign_change():
    for d in (1, 3, 8):
        threshold = qe.small_score_threshold(d)
        assert abs(qe.small_score_bracket(threshold, d)) < 1e-12
        assert np.isclose(qe.exact_sign_change(d, z=0.02), threshold, rtol=1e-3)
        for delta in (0.5 * threshold, 0.5 * (threshold + 0.5)):
            sign = np.sign(qe.equal_split_quadratic_error(0.02, d, delta))
            assert sign == np.sign(qe.small_score_bracket(delta, d))


def test_equal_split_error_against_enumeration():
    z, d, delta = 2.4, 3, 0.35
    example = qe.single_example(z, np.full(d, z / d), delta)
    expected = dt.quadratic_regularizer(*example) - dt.exact_regularizer(*example)
    assert np.isclose(qe.equal_split_quadratic_error(z, d, delta), expected, rtol=1e-12)


def test_gaussian_confident_ratio_is_the_limit():
    s = np.array([0.5, 1.3])
    z = 60.0
    with mpmath.workdps(60):
        for sk, limit in zip(s, qe.gaussian_confident_ratio(s), strict=True):
            base = mpmath.log1p(mpmath.exp(z))

            def integrand(x, sk=sk, base=base):
                return (mpmath.log1p(mpmath.exp(z + x)) - base) * mpmath.npdf(x, 0, sk)

            exact = mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf])
            ratio = sk**2 / 2 * mpmath.exp(-z) / (1 + mpmath.exp(-z)) ** 2 / exact
            assert np.isclose(float(ratio), limit, rtol=1e-8)
    assert qe.gaussian_confident_ratio(0.0) == 1.0


def test_relative_error_maps_and_table():
    grid = qe.dropout_relative_error(np.array([1.0, 3.0]), [0.2, 0.7], d=3)
    example = qe.single_example(3.0, np.full(3, 1.0), 0.7)
    direct = dt.quadratic_regularizer(*example) / dt.exact_regularizer(*example) - 1
    assert np.isclose(grid[1, 1], direct, rtol=1e-12)
    gauss = qe.gaussian_relative_error(np.array([0.5, 2.0]), np.array([1.0]))
    noise = dt.AdditiveGaussian(1.0)
    X, beta = np.array([[0.5], [2.0]]), np.array([1.0])
    ratio = dt.quadratic_regularizer(X, beta, noise, per_example=True) / dt.exact_regularizer(
        X, beta, noise, per_example=True
    )
    assert np.allclose(gauss[0], ratio - 1, rtol=1e-12)
    table = qe.relative_error_table([0.5, 2.0], [0.1], [1.0], d=4)
    assert table.count("\n") == 3 and "%" in table


def test_sign_changes_and_crossover():
    z = np.array([1.0, 2.0, 3.0, 4.0])
    assert qe.sign_changes(np.array([0.3, 0.1, -0.2, -0.5])) == 1
    assert qe.sign_changes(np.array([0.3, -0.1, 0.2, -0.5])) == 3
    assert qe.overestimate_crossover(z, np.array([0.3, 0.1, -0.2, -0.5])) == 2.0
    assert qe.overestimate_crossover(z, -np.ones(4)) == 0.0


ONE_EXAMPLE = {"X": np.ones((1, 2)), "beta": np.ones(2), "noise": dt.Dropout(0.5)}


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (qe.amplitude_regularizer, {**ONE_EXAMPLE, "t": np.inf}),
        (qe.amplitude_curvature, {**ONE_EXAMPLE, "h": 0.0}),
        (qe.amplitude_odd_coefficient, {**ONE_EXAMPLE, "t": -1.0}),
        (qe.single_example, {"z": 1.0, "contributions": [], "delta": 0.5}),
        (qe.single_example, {"z": 1.0, "contributions": [1.0], "delta": 1.0}),
        (qe.random_problem, {"seed": -1}),
        (qe.small_rate_ratio, {"z": 0.0, "contributions": [0.0, 0.0]}),
        (qe.small_score_bracket, {"delta": 1.2, "d": 2}),
        (qe.small_score_threshold, {"d": 0}),
        (qe.exact_sign_change, {"d": 2, "z": 0.0}),
        (qe.exact_sign_change, {"d": 2, "z": 0.02, "bracket": (0.45, 0.5)}),
        (qe.dropout_relative_error, {"z": np.array([0.0, 1.0]), "deltas": [0.5], "d": 2}),
        (qe.gaussian_relative_error, {"z": np.array([1.0]), "s": np.array([0.0])}),
        (qe.overestimate_crossover, {"z": np.ones(3), "errors": np.ones(2)}),
    ],
)
def test_bad_input(call, kwargs):
    with pytest.raises(ValueError):
        call(**kwargs)

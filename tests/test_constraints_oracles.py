"""Tests of dropout_taylor.constraints_oracles: hand-worked cases, and agreement with the
closed forms of chapter 4 (which the oracles are meant to check, so only on a few cases)."""

import itertools
import math

import numpy as np
import pytest

from dropout_taylor import constraints_oracles as oracles


def test_admissible_by_enumeration_hand_cases():
    # delta = 1/2 (r = 1), a = (2.5, -0.5): atoms +-2, +-3; z = 2, rho = sqrt(4 + pi^2) ~ 3.72
    x = np.array([1.0, 1.0])
    assert oracles.admissible_by_enumeration(x, np.array([2.5, -0.5]), 0.5)
    # a = (2.5, -1.5): atom 2.5 + 1.5 = 4 > rho(1) = sqrt(1 + pi^2) ~ 3.30
    assert not oracles.admissible_by_enumeration(x, np.array([2.5, -1.5]), 0.5)
    # an undropped feature moves z but adds no atom: huge intercept makes it admissible
    x3, noisy = np.array([1.0, 1.0, 1.0]), np.array([False, True, True])
    assert oracles.admissible_by_enumeration(x3, np.array([50.0, 2.5, -1.5]), 0.5, noisy)


def test_random_cases_are_reproducible_and_in_range():
    for seed in range(40):
        x, beta, delta, noisy = oracles.random_admissibility_case(seed)
        x2, beta2, *_ = oracles.random_admissibility_case(seed)
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(beta, beta2)
        assert 2 <= x.size <= 7 and delta in (0.05, 0.2, 0.5, 0.7, 0.9)
        assert noisy[0] == (seed % 2 == 0) and noisy[1:].all()


def test_ball_vertices():
    box = oracles.ball_vertices(3, 0.5, np.inf)
    assert box.shape == (8, 3) and np.all(np.abs(box) == 0.5)
    assert len({tuple(v) for v in box}) == 8
    diamond = oracles.ball_vertices(3, 0.5, 1)
    assert diamond.shape == (6, 3)
    np.testing.assert_array_equal(np.abs(diamond).sum(axis=1), 0.5)


def test_largest_perturbation_by_hand():
    # x = (1, -2), beta = (1, 1), delta = 3/4 (r = 3): a = (1, -2); atoms a1 u1 + a2 u2,
    # u in {3, -1}: 3 - 6, 3 + 2, -1 - 6, -1 + 2 -> max |.| = 7
    assert oracles.largest_perturbation([1.0, -2.0], 0.75, [[1.0, 1.0]]) == pytest.approx(7.0)
    # the maximum is over the rows
    rows = [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]
    assert oracles.largest_perturbation([1.0, -2.0], 0.75, rows) == pytest.approx(14.0)


def test_largest_perturbation_matches_a_separate_loop():
    rng = np.random.default_rng(0)
    x, delta = rng.normal(size=4), 0.3
    betas = rng.normal(size=(5, 4))
    r = delta / (1 - delta)
    loop = max(
        abs(sum(xj * bj * u for xj, bj, u in zip(x, b, us, strict=True)))
        for b in betas
        for us in itertools.product([r, -1.0], repeat=4)
    )
    assert oracles.largest_perturbation(x, delta, betas) == pytest.approx(loop, rel=1e-12)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="delta"):
        oracles.admissible_by_enumeration([1.0], [1.0], 0.0)
    with pytest.raises(ValueError, match="beta"):
        oracles.admissible_by_enumeration([1.0, 2.0], [1.0], 0.5)
    with pytest.raises(ValueError, match="16"):
        oracles.admissible_by_enumeration(np.ones(17), np.ones(17), 0.5)
    with pytest.raises(ValueError, match="seed"):
        oracles.random_admissibility_case(-1)
    with pytest.raises(ValueError, match="norm"):
        oracles.ball_vertices(3, 1.0, 2)
    with pytest.raises(ValueError, match="d must"):
        oracles.ball_vertices(0, 1.0, 1)
    assert math.isfinite(oracles.largest_perturbation([1.0], 0.5, [[1.0]]))

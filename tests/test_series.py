"""Tests of dropout_taylor.series against independent oracles: mpmath's numerical Taylor
coefficients, a power-series recurrence, the partial fractions of the sigmoid, brute force over
dropout masks, mpmath quadrature and Gauss-Hermite quadrature."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dropout_taylor as dt
from dropout_taylor import series as S


def _sigmoid_series_coefficients(z0: float, n_max: int, dps: int = 50) -> list[mpmath.mpf]:
    """Oracle: Taylor coefficients of softplus from power-series arithmetic, independent of the
    derivative polynomials: sigma(z0 + h) = 1 / (1 + e^{-z0} e^{-h}), reciprocal by recurrence,
    then a_n = b_{n-1} / n."""
    with mpmath.workdps(dps):
        q = mpmath.exp(-mpmath.mpf(z0))
        den = [(1 if k == 0 else 0) + q * (-1) ** k / mpmath.factorial(k) for k in range(n_max)]
        b = []
        for m in range(n_max):
            b.append((1 if m == 0 else 0) - mpmath.fsum(den[k] * b[m - k] for k in range(1, m + 1)))
            b[m] /= den[0]
        return [S.softplus_mp(z0, dps)] + [b[n - 1] / n for n in range(1, n_max + 1)]


@pytest.mark.parametrize("z0", [-3.0, 0.0, 2.0, 10.0])
def test_coefficients_match_mpmath_taylor(z0):
    with mpmath.workdps(40):
        expected = mpmath.taylor(lambda w: mpmath.log1p(mpmath.exp(w)), z0, 25)
    actual = S.taylor_coefficients(z0, 25, dps=40)
    rho = float(dt.softplus_radius(z0))
    for n, (a, e) in enumerate(zip(actual, expected, strict=True)):
        assert abs(a - e) * mpmath.mpf(rho) ** n < 1e-30, n


@pytest.mark.parametrize("z0", [-1.5, 0.25, 6.0])
def test_coefficients_match_power_series_recurrence(z0):
    actual = S.taylor_coefficients(z0, 150, dps=40)
    expected = _sigmoid_series_coefficients(z0, 150, dps=80)
    rho = mpmath.mpf(float(dt.softplus_radius(z0)))
    for n in range(151):
        assert abs(actual[n] - expected[n]) * rho**n < mpmath.mpf(10) ** -30, n


def test_float64_derivatives_lose_high_orders():
    """The reason for mpmath: float64 is good at low order, poor at high order near 0."""
    exact = S.taylor_coefficients(0.1, 100, dps=40)
    low = dt.softplus_derivative(0.1, 6) / math.factorial(6)
    high = dt.softplus_derivative(0.1, 100) / math.factorial(100)
    assert abs(low - float(exact[6])) <= 1e-12 * abs(float(exact[6]))
    assert abs(high - float(exact[100])) > abs(float(exact[100]))


@pytest.mark.parametrize(("z0", "n"), [(2.0, 2), (2.0, 3), (0.5, 7), (-4.0, 20), (0.0, 6)])
def test_pole_sum_matches_derivatives(z0, n):
    assert abs(S.pole_sum_coefficient(z0, n) - S.taylor_coefficients(z0, n)[n]) < 1e-25


@pytest.mark.parametrize("z0", [0.0, 1.0, 3.0, 8.0])
def test_leading_pole_error_decays_geometrically(z0):
    n_max = 120
    exact = S.taylor_coefficients(z0, n_max)
    lead = S.leading_pole_coefficients(z0, n_max)
    rho, rho1 = math.hypot(z0, math.pi), math.hypot(z0, 3 * math.pi)
    for n in range(2, n_max + 1):
        # The pole pairs k >= 1 contribute at most (2/n) sum_{k>=1} |z0 - i c_k|^{-n}, and
        # |z0 - i c_k| >= rho1 (2k+1)/3, so the sum is <= rho1^{-n} 9 (pi^2/8 - 1) for n >= 2.
        bound = 2.0 / n * rho1 ** (-n) * 9 * (math.pi**2 / 8 - 1) * (1 + 1e-9)
        bound += 1e-13 * 2.0 / n * rho ** (-n)  # float64 rounding of the leading term itself
        assert abs(float(exact[n]) - lead[n]) <= bound, n


@pytest.mark.parametrize("z0", [0.0, 2.0, 5.0, 10.0])
def test_root_test_approaches_radius_from_above(z0):
    est = S.root_test(S.taylor_coefficients(z0, 200))
    rho = float(dt.softplus_radius(z0))
    window = est[100:201]
    assert np.nanmin(window) >= rho
    assert np.nanmin(window) <= 1.03 * rho
    assert np.nanmin(est[20:41]) > np.nanmin(window)


def test_ratio_test_oscillates():
    rt = S.ratio_test(S.taylor_coefficients(3.0, 120))
    rho = float(dt.softplus_radius(3.0))
    assert np.nanmax(rt[60:]) > 2 * rho and np.nanmin(rt[60:]) < rho / 2


def test_nearest_singularity_is_i_pi():
    w = S.nearest_singularity(2.0, dps=30)
    with mpmath.workdps(30):
        assert abs(w - 1j * mpmath.pi) < 1e-25


def test_partial_sums_inside_and_outside():
    a = S.taylor_coefficients(2.0, 200)
    rho = float(dt.softplus_radius(2.0))
    inside = S.partial_sums(a, 0.8 * rho)
    outside = S.partial_sums(a, 1.2 * rho)
    exact = S.softplus_mp(2.0 + 0.8 * rho)
    assert abs(inside[-1] - exact) < 1e-15
    assert abs(outside[-1]) > 1e10


def test_dropout_atoms_match_enumeration():
    rng = np.random.default_rng(0)
    a = rng.normal(size=6) * 3
    for delta in (0.1, 0.5, 0.8):
        atoms, probs = S.dropout_atoms_mp(a, delta)
        ref_atoms, ref_probs = dt.Dropout(delta).atoms(a[None, :], np.ones(6))
        np.testing.assert_allclose([float(x) for x in atoms], ref_atoms[0], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose([float(x) for x in probs], ref_probs, rtol=1e-13)


def test_expected_series_exact_value_matches_mask_enumeration():
    rng = np.random.default_rng(1)
    a = rng.normal(size=5)
    atoms, probs = S.dropout_atoms_mp(a, 0.3)
    es = S.expected_series(float(a.sum()), atoms, probs, n_max=10)
    ref = dt.Dropout(0.3).expect(dt.softplus, a[None, :], np.ones(5))[0]
    assert abs(float(es.exact) - ref) < 1e-13
    # terms are a_n E[Delta^n]: check E[Delta^2] against the library's variance
    var = dt.Dropout(0.3).perturbation_variance(a[None, :], np.ones(5))[0]
    a2 = dt.softplus_derivative(a.sum(), 2) / 2
    assert abs(float(es.terms[2]) - a2 * var) < 1e-13


def test_expected_series_converges_inside():
    atoms, probs = S.dropout_atoms_mp([1.0, -0.8, 0.5], 0.5)
    es = S.expected_series(0.7, atoms, probs, n_max=150)
    assert es.reach < es.rho
    assert es.errors[-1] < 1e-20


def test_expected_series_diverges_outside_with_predicted_rate():
    atoms, probs = S.dropout_atoms_mp([6.0, -4.0], 0.5)
    es = S.expected_series(2.0, atoms, probs, n_max=200)
    assert es.reach == 10.0
    assert np.max(es.abs_terms) > 1e80
    assert abs(es.growth_rate() / (es.reach / es.rho) - 1) < 0.02


def test_expected_series_boundary_converges_like_one_over_n():
    z = 2.0
    with mpmath.workdps(30):
        rho = mpmath.sqrt(z**2 + mpmath.pi**2)
    es = S.expected_series(z, [rho, -rho, 1.0], [0.25, 0.5, 0.25], n_max=200)
    n = np.arange(201)
    phi = math.atan2(math.pi, z)
    # Dirichlet tail bound for the leading terms -(2/n)[p+ cos(n(pi+phi)) + p- cos(n phi)].
    c = 2 * (0.25 / abs(math.sin((math.pi + phi) / 2)) + 0.5 / abs(math.sin(phi / 2)))
    assert np.all(es.errors[50:] * (n[50:] + 1) <= 1.05 * c)
    assert np.sum(es.abs_terms[100:]) > 0.1  # not absolutely convergent: terms ~ 1/n


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=7),
    st.floats(0.01, 0.95),
    st.integers(0, 3),
)
def test_dropout_reach_matches_brute_force(values, delta, n_clean):
    rng = np.random.default_rng(len(values))
    d = len(values) + n_clean
    X = rng.normal(size=(3, d))
    beta = np.concatenate([values, rng.normal(size=n_clean)])
    noisy = np.arange(d) < len(values)
    noise = dt.Dropout(delta, noisy=noisy)
    cond = S.dropout_convergence(X, beta, noise)
    atoms, _ = noise.atoms(X, beta)
    np.testing.assert_allclose(cond.reach, np.abs(atoms).max(axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cond.z, X @ beta, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cond.rho, np.sqrt((X @ beta) ** 2 + np.pi**2))


def test_half_rate_condition_is_product_of_sums():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(400, 4)) * rng.uniform(0.1, 3, size=(400, 1))
    cond = S.dropout_convergence(A, np.ones(4), dt.Dropout(0.5))
    s_plus, s_minus = np.clip(A, 0, None).sum(1), np.clip(-A, 0, None).sum(1)
    clear = np.abs(s_plus * s_minus - np.pi**2 / 4) > 1e-9
    assert np.array_equal(cond.converges[clear], (s_plus * s_minus < np.pi**2 / 4)[clear])
    assert cond.converges.any() and cond.diverges.any()


@pytest.mark.parametrize("a", [[2.0, -0.5], [1.0, 1.0, 0.5], [3.0, -1.0, 0.2]])
def test_critical_rate_separates_convergence(a):
    a = np.array(a)
    dstar = S.critical_rate(a)
    assert 0 < dstar < 1
    for delta, expected in ((dstar * 0.99, True), (min(dstar * 1.01 + 1e-3, 0.99), False)):
        atoms, _ = dt.Dropout(delta).atoms(a[None, :], np.ones(a.size))
        assert (np.abs(atoms).max() < math.hypot(a.sum(), math.pi)) == expected


def test_critical_rate_zero_when_support_too_wide():
    assert S.critical_rate(np.array([6.0, -4.0])) == 0.0
    assert S.critical_rate(np.zeros(3)) == 1.0
    assert S.critical_rate(np.array([5.0, 0.0])) == pytest.approx(
        (lambda r: r / (1 + r))(math.hypot(5, math.pi) / 5)
    )


@pytest.mark.parametrize("n", [0, 1, 2, 4, 7, 10])
def test_gaussian_moments_match_quadrature(n):
    s = 1.3
    with mpmath.workdps(30):
        ref = mpmath.quad(lambda x: (s * x) ** n * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])
    assert abs(S.gaussian_moment(n, s) - ref) < 1e-20 * max(1, abs(ref))
    gh = dt.gauss_hermite_expectation(lambda x: x**n, 0.0, s, n_nodes=20)
    assert abs(float(gh) - float(ref)) < 1e-10 * max(1, abs(float(ref)))


@pytest.mark.parametrize(("z0", "s"), [(0.0, 0.5), (2.0, 1.5), (-3.0, 4.0)])
def test_gaussian_expectation_matches_gauss_hermite(z0, s):
    ref = dt.gauss_hermite_expectation(dt.softplus, z0, s, n_nodes=200)
    assert abs(float(S.gaussian_expectation_mp(z0, s)) - float(ref)) < 1e-10


def test_gaussian_truncation_first_improves_then_diverges():
    rho = float(dt.softplus_radius(1.0))
    errors = S.gaussian_truncation_errors(1.0, rho / 4, 30)
    k = int(np.argmin(errors))
    assert 2 <= k <= 28
    assert errors[k] < 1e-3 * errors[0] and errors[-1] > 10 * errors[k]


def test_derivative_sup_known_values_and_grid():
    assert S.softplus_derivative_sup(2) == pytest.approx(0.25, rel=1e-12)
    assert S.softplus_derivative_sup(3) == pytest.approx(1 / (6 * math.sqrt(3)), rel=1e-12)
    assert S.softplus_derivative_sup(4) == pytest.approx(0.125, rel=1e-12)
    x = np.linspace(-12, 12, 3001)
    for n in (5, 8, 12):
        grid = max(abs(float(S.softplus_derivative_mp(v, n))) for v in x[::10])
        assert grid <= S.softplus_derivative_sup(n) * (1 + 1e-9)
        assert grid >= 0.99 * S.softplus_derivative_sup(n)


@pytest.mark.parametrize(("z0", "s", "k"), [(0.0, 0.4, 0), (0.0, 0.4, 3), (2.0, 1.0, 2), (-5.0, 0.7, 5)])
def test_asymptotic_bound_holds(z0, s, k):
    err = S.gaussian_truncation_errors(z0, s, k)[k]
    assert err <= S.asymptotic_error_bound(k, s) * (1 + 1e-6)


def test_validation_errors():
    with pytest.raises(ValueError, match="n_max"):
        S.taylor_coefficients(0.0, -1)
    with pytest.raises(ValueError, match="n_max"):
        S.taylor_coefficients(0.0, S.MAX_ORDER + 1)
    with pytest.raises(ValueError, match="z0"):
        S.taylor_coefficients(float("nan"), 3)
    with pytest.raises(ValueError, match="dps"):
        S.taylor_coefficients(0.0, 3, dps=5)
    with pytest.raises(ValueError, match="n must"):
        S.pole_sum_coefficient(0.0, 1)
    with pytest.raises(ValueError, match="probabilities"):
        S.expected_series(0.0, [1.0, -1.0], [0.3, 0.3])
    with pytest.raises(ValueError, match="delta"):
        S.dropout_atoms_mp([1.0], 1.0)
    with pytest.raises(ValueError, match="noise"):
        S.dropout_convergence(np.ones((1, 2)), np.ones(2), dt.AdditiveGaussian(1.0))
    with pytest.raises(ValueError, match="s must"):
        S.gaussian_moment(2, -1.0)


# --- building blocks of the chapter's checks -------------------------------------------------


def test_scaled_coefficient_errors_against_recurrence():
    ref = _sigmoid_series_coefficients(1.5, 20, dps=50)
    err = S.scaled_coefficient_errors(1.5, ref, dps=40)
    assert err.shape == (21,) and np.all(err < 1e-30)
    wrong = list(ref)
    wrong[7] += mpmath.mpf("1e-6")
    rho = math.hypot(1.5, math.pi)
    assert S.scaled_coefficient_errors(1.5, wrong, dps=40)[7] == pytest.approx(1e-6 * rho**7, rel=1e-6)


def test_leading_pole_error_bound_dominates_exact_error():
    n_max = 120
    for z0 in (-2.0, 0.5, 6.0):
        exact = np.array([float(v) for v in S.taylor_coefficients(z0, n_max)])
        bound = S.leading_pole_error_bound(z0, n_max)
        assert np.isnan(bound[:2]).all()
        lead = S.leading_pole_coefficients(z0, n_max)
        assert np.all(np.abs(exact - lead)[2:] <= bound[2:])
        # the bound is not vacuous: it decays like (rho / rho_1)^n relative to the leading size
        assert bound[n_max] < 1e-3 * 2 / n_max * math.hypot(z0, math.pi) ** -n_max


def test_point_partial_sum_errors_inside_and_outside():
    rho = float(dt.softplus_radius(1.0))
    inside = S.point_partial_sum_errors(1.0, 0.5 * rho, 120)
    outside = S.point_partial_sum_errors(1.0, 1.2 * rho, 120)
    assert inside.shape == (121,)
    assert inside[0] == pytest.approx(abs(float(S.softplus_mp(1.0) - S.softplus_mp(1.0 + 0.5 * rho))))
    assert inside[-1] < 1e-25 and outside[-1] > 1e5


def test_boundary_atoms_and_tail_constant():
    atoms, probs = S.boundary_atoms(2.0, 0.25, 0.5, inner=1.0)
    assert float(atoms[0]) == pytest.approx(math.hypot(2.0, math.pi), rel=1e-15)
    assert float(atoms[1]) == -float(atoms[0]) and float(atoms[2]) == 1.0
    assert [float(p) for p in probs] == [0.25, 0.5, 0.25]
    phi = math.atan2(math.pi, 2.0)
    c = S.boundary_tail_constant(2.0, 0.25, 0.5)
    assert c == pytest.approx(2 * (0.25 / math.cos(phi / 2) + 0.5 / math.sin(phi / 2)))
    es = S.expected_series(2.0, atoms, probs, n_max=200)
    n = np.arange(201)
    assert np.all(es.errors[50:] * (n[50:] + 1) <= 1.05 * c)


def test_random_problems_are_reproducible_and_scaled():
    X1, b1, n1 = S.random_dropout_problem(np.random.default_rng(3))
    X2, b2, n2 = S.random_dropout_problem(np.random.default_rng(3))
    assert np.array_equal(X1, X2) and np.array_equal(b1, b2) and n1.delta == n2.delta
    assert X1.shape[0] == 4 and 1 <= int(np.sum(n1.noisy)) <= 8
    for target in (0.8, 1.3):
        a, delta = S.scaled_dropout_problem(np.random.default_rng(7), target)
        atoms, _ = dt.Dropout(delta).atoms(a[None, :], np.ones(a.size))
        assert np.abs(atoms).max() / math.hypot(a.sum(), math.pi) == pytest.approx(target, rel=1e-12)


def test_support_curve_against_direct_enumeration():
    deltas = np.array([0.01, 0.3, 0.7])
    rows = S.support_curve([2.0, -1.0], deltas)
    assert rows.shape == (3, 4)
    for delta, row in zip(deltas, rows, strict=True):
        r = delta / (1 - delta)
        values = [2 * r - r, 2 * r + 1, -2 - r, -2 + 1]  # masks (kept, kept), (kept, dropped), ...
        rho = math.hypot(1.0, math.pi)
        probs = [(1 - delta) ** 2, (1 - delta) * delta, delta * (1 - delta), delta**2]
        assert row[0] == pytest.approx(max(abs(v) for v in values))
        assert row[1] == pytest.approx(math.sqrt(r * 5))
        assert row[2] == pytest.approx(sum(p for v, p in zip(values, probs, strict=True) if abs(v) > rho))
        assert row[3] == pytest.approx(rho)


def test_gaussian_term_ratios_follow_the_cosine():
    terms, ratios = S.gaussian_term_ratios(1.0, 0.5, 60)
    k = np.arange(1, 61)
    rho = math.hypot(1.0, math.pi)
    direct = [abs(float(S.taylor_coefficients(1.0, 120)[2 * j])) * math.prod(range(1, 2 * j, 2))
              * (0.5 * rho) ** (2 * j) for j in (5, 30)]
    assert terms[4] == pytest.approx(direct[0], rel=1e-12)
    assert terms[29] == pytest.approx(direct[1], rel=1e-12)
    cos = np.abs(np.cos(2 * k * math.atan2(math.pi, 1.0)))
    assert np.allclose(ratios[10:], cos[10:], atol=1e-5)


def test_gaussian_truncation_table_rows():
    table = S.gaussian_truncation_table(0.5, [0.3, 1.0], 6)
    rho = float(dt.softplus_radius(0.5))
    assert table.shape == (2, 7)
    np.testing.assert_array_equal(table[1], S.gaussian_truncation_errors(0.5, rho, 6))


def test_new_validation_errors():
    with pytest.raises(ValueError, match="reference"):
        S.scaled_coefficient_errors(0.0, [])
    with pytest.raises(ValueError, match="slack"):
        S.leading_pole_error_bound(0.0, 5, slack=2.0)
    with pytest.raises(ValueError, match="h"):
        S.point_partial_sum_errors(0.0, float("inf"), 5)
    with pytest.raises(ValueError, match="p_plus"):
        S.boundary_atoms(0.0, 0.7, 0.5)
    with pytest.raises(ValueError, match="inner"):
        S.boundary_atoms(0.0, 0.25, 0.25, inner=4.0)
    with pytest.raises(ValueError, match="p_plus"):
        S.boundary_tail_constant(0.0, -0.1, 0.5)
    with pytest.raises(ValueError, match="rng"):
        S.random_dropout_problem(3)
    with pytest.raises(ValueError, match="target"):
        S.scaled_dropout_problem(np.random.default_rng(0), 0.0)
    with pytest.raises(ValueError, match="deltas"):
        S.support_curve([1.0, -1.0], [[0.5]])
    with pytest.raises(ValueError, match="s_over_rho"):
        S.gaussian_term_ratios(0.0, -1.0, 5)

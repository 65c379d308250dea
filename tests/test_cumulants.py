"""Tests of dropout_taylor.cumulants against independent oracles: the two-class closed form,
polynomial roots for commensurate directions, mpmath (findroot, high-precision moments), finite
differences of log-sum-exp."""

import mpmath
import numpy as np
import pytest
from scipy import special

from dropout_taylor import cumulants as cu


def _random_pairs(rng, n, K, scale=3.0):
    z = scale * rng.standard_normal((n, K))
    delta = scale * rng.standard_normal((n, K))
    return z, special.softmax(z, axis=1), delta


def test_two_class_radius_matches_closed_form():
    rng = np.random.default_rng(0)
    z, p, delta = _random_pairs(rng, 300, 2)
    nz = cu.nearest_zero(p, delta)
    assert nz.certified.all()
    np.testing.assert_allclose(nz.radius, cu.two_class_radius(z, delta), rtol=1e-10)


def test_two_class_radius_is_softplus_radius():
    assert cu.two_class_radius([0.0, 0.0], [1.0, 0.0]) == pytest.approx(np.pi, rel=1e-15)
    assert cu.two_class_radius([3.0, 1.0], [0.5, 0.5]) == np.inf


def test_radius_matches_mpmath_polished_roots():
    rng = np.random.default_rng(1)
    for K in (3, 5, 10):
        _, p, delta = _random_pairs(rng, 20, K)
        nz = cu.nearest_zero(p, delta)
        assert nz.certified.all()
        for i in range(len(p)):
            root = cu.nearest_zero_mp(p[i], delta[i], nz.zero[i], dps=30)
            with mpmath.workdps(30):
                value = mpmath.fsum(a * mpmath.exp(root * b) for a, b in zip(p[i], delta[i], strict=True))
                assert abs(value) < mpmath.mpf(10) ** -25
            assert float(abs(root)) == pytest.approx(nz.radius[i], rel=1e-10)


def test_radius_matches_polynomial_roots_when_commensurate():
    rng = np.random.default_rng(2)
    for _ in range(40):
        K = int(rng.integers(2, 7))
        steps = rng.integers(-5, 6, size=K)
        if np.ptp(steps) == 0:
            continue
        h = float(rng.uniform(0.3, 2.0))
        p = rng.dirichlet(np.ones(K))
        nz = cu.nearest_zero(p, steps * h)
        assert nz.certified
        assert nz.radius == pytest.approx(cu.commensurate_radius(p, steps, h), rel=1e-10)


def test_zero_count_matches_polynomial_roots():
    rng = np.random.default_rng(3)
    for _ in range(20):
        steps = rng.integers(-4, 5, size=4)
        if np.ptp(steps) == 0:
            continue
        h = 1.0
        p = rng.dirichlet(np.ones(4))
        n = steps - steps.min()
        coeffs = np.zeros(n.max() + 1)
        np.add.at(coeffs, n, p)
        logs = np.log(np.roots(coeffs[::-1]).astype(complex))
        r = float(rng.uniform(0.5, 8.0))
        # zeros t = log|w| + i (arg w + 2 pi m); count those with |t| < r
        m = np.arange(-10, 11)
        t = logs.real[:, None] + 1j * (logs.imag[:, None] + 2 * np.pi * m[None, :])
        expected = int(np.sum(np.abs(t) < r))
        count, ok = cu.zero_count(p, steps * h, r)
        assert ok
        assert int(count) == expected


def test_example_from_the_map():
    p = np.array([0.6, 0.3, 0.1])
    delta = np.array([1.0, -2.0, 0.5])
    nz = cu.nearest_zero(p, delta)
    root = cu.nearest_zero_mp(p, delta, nz.zero, dps=40)
    assert nz.radius == pytest.approx(float(abs(root)), rel=1e-12)
    # root test on 400 mpmath coefficients: approaches R from above
    est = cu.root_test_estimates(cu.cgf_taylor_coefficients_mp(p, delta, 400), window=20)
    assert nz.radius < est[400] < 1.02 * nz.radius


def test_constant_direction_has_infinite_radius():
    nz = cu.nearest_zero([0.2, 0.3, 0.5], [1.5, 1.5, 1.5])
    assert nz.radius == np.inf
    assert cu.converges_at([0.2, 0.3, 0.5], [1.5, 1.5, 1.5], 100.0)


def test_quadratic_term_matches_finite_difference_hessian():
    rng = np.random.default_rng(4)
    z = rng.standard_normal(6)
    delta = rng.standard_normal(6)
    p = special.softmax(z)
    eps = 1e-4
    H = np.zeros((6, 6))
    lse = special.logsumexp
    for i in range(6):
        for j in range(6):
            ei, ej = np.eye(6)[i] * eps, np.eye(6)[j] * eps
            second = lse(z + ei + ej) - lse(z + ei - ej) - lse(z - ei + ej) + lse(z - ei - ej)
            H[i, j] = second / (4 * eps**2)
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), atol=1e-7)
    np.testing.assert_allclose(cu.quadratic_term(p, delta), 0.5 * delta @ H @ delta, rtol=1e-6)


def test_cgf_and_cumulants():
    rng = np.random.default_rng(5)
    z = rng.standard_normal(5)
    delta = rng.standard_normal(5)
    p = special.softmax(z)
    t = np.linspace(-2, 2, 9)
    expected = special.logsumexp(z[None, :] + t[:, None] * delta, axis=1) - special.logsumexp(z)
    np.testing.assert_allclose(cu.cgf(p, delta, t), expected, rtol=1e-13, atol=1e-15)
    kappa = cu.cumulants(p, delta, 4)
    mean = p @ delta
    c = delta - mean
    mu2, mu3, mu4 = p @ c**2, p @ c**3, p @ c**4
    np.testing.assert_allclose(kappa[1:], [mean, mu2, mu3, mu4 - 3 * mu2**2], rtol=1e-12)
    assert 2 * cu.quadratic_term(p, delta) == pytest.approx(kappa[2], rel=1e-13)
    coeffs_mp = cu.cgf_taylor_coefficients_mp(p, delta, 12)
    np.testing.assert_allclose(cu.cgf_taylor_coefficients(p, delta, 12), [float(c) for c in coeffs_mp],
                               rtol=1e-9, atol=1e-15)


def test_converges_at_agrees_with_radius():
    rng = np.random.default_rng(6)
    _, p, delta = _random_pairs(rng, 200, 4, scale=2.0)
    nz = cu.nearest_zero(p, delta)
    np.testing.assert_array_equal(cu.converges_at(p, delta, 1.0), nz.radius > 1.0)


def test_bad_input():
    with pytest.raises(ValueError, match="p must be a probability vector"):
        cu.nearest_zero([0.5, 0.6], [1.0, 2.0])
    with pytest.raises(ValueError, match="same K"):
        cu.quadratic_term([0.5, 0.5], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="r must be > 0"):
        cu.zero_count([0.5, 0.5], [1.0, 2.0], -1.0)
    with pytest.raises(ValueError, match="steps must be an integer array"):
        cu.commensurate_radius([0.5, 0.5], [1.0, 2.0], 1.0)


def test_mixture_coefficients_average_the_lists():
    a = [mpmath.mpf(1), mpmath.mpf(2), mpmath.mpf(-3)]
    b = [0.5, 0.0, 1.0]
    mixed = cu.mixture_coefficients([a, b])
    assert [float(v) for v in mixed] == [0.75, 1.0, -1.0]
    # the average of the series is the series of the average: sum at t = 1/2
    p, delta = np.array([0.2, 0.8]), np.array([1.0, -0.5])
    c1 = cu.cgf_taylor_coefficients_mp(p, delta, 40)
    c2 = cu.cgf_taylor_coefficients_mp(p, 2 * delta, 40)
    total = float(mpmath.fsum(c * mpmath.mpf(0.5) ** n
                              for n, c in enumerate(cu.mixture_coefficients([c1, c2]))))
    exact = (cu.cgf(p, delta, 0.5) + cu.cgf(p, 2 * delta, 0.5)) / 2
    assert total == pytest.approx(float(exact), rel=1e-10)
    with pytest.raises(ValueError, match="equally long"):
        cu.mixture_coefficients([a, b[:2]])
    with pytest.raises(ValueError, match="dps"):
        cu.mixture_coefficients([a], dps=5)


def test_zero_plots_draw_without_error():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p, delta = np.array([0.6, 0.3, 0.1]), np.array([1.0, -2.0, 0.5])
    zero = cu.nearest_zero(p, delta).zero
    fig, (a, b) = plt.subplots(1, 2)
    mesh = cu.plot_partition_zeros(a, p, delta, complex(zero), n=41)
    assert mesh is not None and len(a.patches) == 1 and len(a.lines) == 2
    cu.plot_root_test(b, np.linspace(2.0, 1.2, 50), 1.1, start=5)
    assert len(b.lines) == 2
    with pytest.raises(ValueError, match="zero"):
        cu.plot_partition_zeros(a, p, delta, 1.0 + 0j)
    with pytest.raises(ValueError, match="start"):
        cu.plot_root_test(b, np.ones(10), 1.0, start=10)
    plt.close(fig)

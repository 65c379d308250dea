"""Tests of dropout_taylor.constraints against brute-force mask enumeration (itertools),
sampling, and scipy's Wilson interval."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

import dropout_taylor as dt
from dropout_taylor import constraints as cs


def brute_force_atoms(x, beta, delta, noisy):
    """Every atom of Delta and its probability, by a plain loop over the masks of the noisy features."""
    idx = np.flatnonzero(noisy)
    atoms, probs = [], []
    for mask in itertools.product([0, 1], repeat=len(idx)):
        x_tilde = x.copy()
        p = 1.0
        for j, kept in zip(idx, mask, strict=True):
            x_tilde[j] = x[j] * kept / (1 - delta)
            p *= (1 - delta) if kept else delta
        atoms.append((x_tilde - x) @ beta)
        probs.append(p)
    return np.array(atoms), np.array(probs)


def random_problem(seed, n=6, d=5, intercept=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.2, 3)
    if intercept:
        X[:, 0] = 1.0
    beta = rng.standard_normal(d) * rng.uniform(0.1, 4)
    noisy = np.ones(d, dtype=bool)
    noisy[0] = not intercept
    return X, beta, noisy, rng.choice([0.05, 0.25, 0.5, 0.7, 0.9])


@pytest.mark.parametrize("seed", range(12))
def test_ratio_and_mass_match_brute_force(seed):
    X, beta, noisy, delta = random_problem(seed, intercept=seed % 2 == 0)
    ratio = cs.perturbation_ratio(X, beta, delta, noisy)
    mass = cs.mass_outside(X, beta, dt.Dropout(delta, noisy=noisy))
    assert mass.method == "exact enumeration" and mass.exact
    for i, x in enumerate(X):
        atoms, probs = brute_force_atoms(x, beta, delta, noisy)
        rho = math.sqrt((x @ beta) ** 2 + math.pi**2)
        assert ratio[i] == pytest.approx(np.abs(atoms).max() / rho, rel=1e-12)
        assert mass.per_example[i] == pytest.approx(probs[np.abs(atoms) >= rho].sum(), abs=1e-12)
    np.testing.assert_array_equal(cs.admissible(X, beta, delta, noisy), ratio < 1)


def test_admissible_grid_is_ratio_at_each_weight():
    x = np.array([1.3, -0.4])
    betas = np.random.default_rng(1).normal(size=(4, 3, 2)) * 3
    grid = cs.admissible_grid(x, betas, 0.3)
    loop = np.array([[cs.perturbation_ratio(x[None], b, 0.3)[0] for b in row] for row in betas])
    np.testing.assert_allclose(grid, loop, rtol=1e-14)


def test_delta_half_region_is_product_condition():
    # delta = 1/2, no undropped weights: admissible iff 4 S+ S- < pi^2.
    rng = np.random.default_rng(2)
    X, B = rng.normal(size=(400, 4)), rng.normal(size=4) * 2
    a = X * B
    s_plus, s_minus = np.clip(a, 0, None).sum(1), np.clip(-a, 0, None).sum(1)
    np.testing.assert_array_equal(cs.admissible(X, B, 0.5), 4 * s_plus * s_minus < np.pi**2)


@pytest.mark.parametrize("seed", range(4))
def test_monte_carlo_mass_agrees_with_exact(seed):
    X, beta, noisy, delta = random_problem(seed + 20, n=40, d=8)
    noise = dt.Dropout(delta, noisy=noisy)
    exact = cs.mass_outside(X, beta, noise)
    rng = np.random.default_rng(seed)
    mc = cs.mass_outside(X, beta, noise, method="monte-carlo", rng=rng, n_samples=4000)
    assert mc.method == "Monte Carlo" and not mc.exact and mc.n_samples == 4000
    se = math.sqrt(max(exact.mean * (1 - exact.mean), 1e-6) / (40 * 4000))
    assert abs(mc.mean - exact.mean) < 5 * se
    assert mc.low <= mc.mean <= mc.high
    assert "Monte Carlo" in repr(mc) and "exact enumeration" in repr(exact)


def test_auto_switches_to_monte_carlo_above_twenty_features():
    rng = np.random.default_rng(3)
    X, beta = rng.normal(size=(5, 25)), rng.normal(size=25)
    with pytest.raises(ValueError, match="rng"):
        cs.mass_outside(X, beta, dt.Dropout(0.5))
    mass = cs.mass_outside(X, beta, dt.Dropout(0.5), rng=rng, n_samples=64)
    assert mass.method == "Monte Carlo"


@pytest.mark.parametrize("model", [dt.AdditiveGaussian(0.7), dt.MultiplicativeGaussian(0.4)])
def test_gaussian_mass_is_normal_tail_and_positive(model):
    rng = np.random.default_rng(4)
    X, beta = rng.normal(size=(5, 3)), rng.normal(size=3) * 0.2
    mass = cs.mass_outside(X, beta, model)
    assert mass.exact and np.all(mass.per_example > 0)
    draws = model.sample_perturbation(X, beta, rng, 200_000)
    rho = dt.softplus_radius(X @ beta)
    freq = np.mean(np.abs(draws) >= rho[:, None], axis=1)
    se = np.sqrt(mass.per_example * (1 - mass.per_example) / 200_000) + 1e-9
    assert np.all(np.abs(freq - mass.per_example) < 5 * se)
    assert np.all(cs.mass_outside(X, np.zeros(3), model).per_example == 0)


@pytest.mark.parametrize("norm", [1, 2, np.inf])
@pytest.mark.parametrize("delta", [0.1, 0.5, 0.8])
def test_ball_radius_is_the_largest_ball(norm, delta):
    rng = np.random.default_rng(5)
    X = np.hstack([np.ones((30, 1)), rng.normal(size=(30, 4))])
    noisy = np.array([False, True, True, True, True])
    t_star = cs.ball_radius(X, delta, norm, noisy)
    # inside: random directions on the sphere of radius 0.999 t*, intercepts that zero the score
    for _ in range(200):
        v = rng.normal(size=4) * rng.exponential(size=4)
        v *= 0.999 * t_star / np.linalg.norm(v, ord=norm)
        # with the intercept that zeroes each score, rho = pi: the largest atom must stay below it
        low, high = dt.Dropout(delta).extreme_perturbations(X[:, 1:], v)
        assert np.all(np.maximum(high, -low) < math.pi)
    i = 3  # and one example through the full ratio, intercept included
    beta = np.concatenate([[-(X[i, 1:] @ v)], v])
    assert cs.perturbation_ratio(X[i : i + 1], beta, delta, noisy)[0] < 1
    # outside: the witness just beyond t*, on the example of largest dual norm, with z = 0
    worst = int(np.argmax(np.linalg.norm(X[:, 1:], ord=cs.DUAL_NORM[norm], axis=1)))
    beta = cs.ball_witness(X[worst], delta, 1.001 * t_star, norm, noisy)
    assert np.linalg.norm(beta[1:], ord=norm) == pytest.approx(1.001 * t_star)
    beta[0] = -(X[worst] @ beta)
    assert cs.perturbation_ratio(X[worst : worst + 1], beta, delta, noisy)[0] > 1


def test_ball_radius_infinity_box_by_vertices():
    # L-infinity ball: the largest atom over the ball is attained at a vertex; enumerate them all.
    x, delta, t = np.array([0.7, -1.2, 2.0]), 0.7, 0.3
    best = max(
        np.abs(brute_force_atoms(x, t * np.array(s), delta, np.ones(3, bool))[0]).max()
        for s in itertools.product([-1, 1], repeat=3)
    )
    r = delta / (1 - delta)
    assert best == pytest.approx(max(1, r) * t * np.abs(x).sum())
    assert cs.ball_radius(x[None], delta, np.inf) == pytest.approx(math.pi / (max(1, r) * np.abs(x).sum()))


def test_confidence_caps():
    assert cs.confidence_cap(0.3) == pytest.approx(1 / (1 + math.exp(-math.pi)))
    assert cs.confidence_cap(0.75) == pytest.approx(1 / (1 + math.exp(-math.pi / 3)))
    assert cs.region_confidence_cap(0.5) == 1.0
    # delta > 1/2, no undropped weights: every admissible score is below pi / sqrt(r^2 - 1)
    rng = np.random.default_rng(6)
    delta, r = 0.75, 3.0
    X, B = rng.normal(size=(20000, 3)), np.array([1.0, 0.6, -0.3])
    X *= rng.uniform(0, 2, size=(20000, 1))
    ok = cs.admissible(X, B, delta)
    bound = math.pi / math.sqrt(r * r - 1)
    assert ok.any() and np.all(np.abs(X[ok] @ B) < bound)
    assert np.abs(X[ok] @ B).max() > 0.9 * bound  # and it is nearly reached
    assert cs.region_confidence_cap(delta) == pytest.approx(1 / (1 + math.exp(-bound)))


def test_wilson_interval_matches_scipy():
    for k, n in [(0, 10), (3, 50), (50, 50), (1234, 100000)]:
        ci = stats.binomtest(k, n).proportion_ci(0.9, method="wilson")
        np.testing.assert_allclose(cs.wilson_interval(k, n, 0.9), (ci.low, ci.high), rtol=1e-10, atol=1e-14)


def test_bad_input_raises():
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match="norm"):
        cs.ball_radius(X, 0.5, norm=3)
    with pytest.raises(ValueError, match="delta"):
        cs.perturbation_ratio(X, np.ones(3), 1.0)
    with pytest.raises(ValueError, match="method"):
        cs.mass_outside(X, np.ones(3), dt.Dropout(0.5), method="magic")
    with pytest.raises(ValueError, match="n_samples"):
        rng = np.random.default_rng()
        cs.mass_outside(X, np.ones(3), dt.Dropout(0.5), method="monte-carlo", rng=rng, n_samples=0)
    with pytest.raises(ValueError, match="level"):
        cs.wilson_interval(1, 2, 1.5)
    with pytest.raises(ValueError, match="nonzero"):
        cs.ball_witness(np.zeros(3), 0.5, 1.0)
    assert cs.ball_radius(X, 0.0) == math.inf


def test_plots_draw_without_error():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    cs.plot_admissible_region(a, np.array([1.0, 0.5]), 0.75, n_grid=51)
    assert len(a.patches) == 3 and len(a.images) == 1
    cs.plot_sorted_ratios(b, {0.5: np.array([0.5, 2.0, 1.2])})
    assert len(b.lines) == 2
    with pytest.raises(ValueError, match="2 features"):
        cs.plot_admissible_region(a, np.ones(3), 0.5)
    plt.close(fig)


@pytest.mark.parametrize("norm", [1, 2, np.inf])
@pytest.mark.parametrize("delta", [0.2, 0.5, 0.8])
def test_ball_tightness_accepts_t_star_and_rejects_a_larger_radius(norm, delta, monkeypatch):
    rng = np.random.default_rng(11)
    X = np.hstack([np.ones((25, 1)), rng.normal(size=(25, 4))])
    noisy = np.array([False, True, True, True, True])
    assert cs.ball_tightness(X, delta, norm, noisy, rng, n_directions=50) == (True, True)
    # a ball radius 5% too large must fail the inside test, 5% too small the outside test
    t_star = cs.ball_radius(X, delta, norm, noisy)
    monkeypatch.setattr(cs, "ball_radius", lambda *args: 1.05 * t_star)
    assert cs.ball_tightness(X, delta, norm, noisy, rng, n_directions=50)[0] is False
    monkeypatch.setattr(cs, "ball_radius", lambda *args: 0.95 * t_star)
    assert cs.ball_tightness(X, delta, norm, noisy, rng, n_directions=50)[1] is False


def test_ball_tightness_bad_input():
    X, rng = np.ones((3, 2)), np.random.default_rng(0)
    with pytest.raises(ValueError, match="rng"):
        cs.ball_tightness(X, 0.5, 2, None, rng=0)
    with pytest.raises(ValueError, match="n_directions"):
        cs.ball_tightness(X, 0.5, 2, None, rng, n_directions=0)
    with pytest.raises(ValueError, match="margin"):
        cs.ball_tightness(X, 0.5, 2, None, rng, margin=1.5)
    with pytest.raises(ValueError, match="unbounded"):
        cs.ball_tightness(X, 0.0, 2, None, rng)


def test_outside_share_by_intercept_matches_brute_force():
    X, beta, noisy, delta = random_problem(31, n=8, d=4)  # column 0: undropped intercept
    intercepts = np.linspace(-6, 6, 13)
    share = cs.outside_share_by_intercept(X, beta, delta, noisy, intercepts)
    for c, s in zip(intercepts, share, strict=True):
        b = beta.copy()
        b[0] = c
        outside = []
        for x in X:
            atoms, _ = brute_force_atoms(x, b, delta, noisy)
            outside.append(np.abs(atoms).max() >= math.hypot(x @ b, math.pi))
        assert s == pytest.approx(np.mean(outside), abs=1e-15)
    with pytest.raises(ValueError, match="intercepts"):
        cs.outside_share_by_intercept(X, beta, delta, noisy, [[0.0]])


def test_outside_mass_repr_is_short():
    rng = np.random.default_rng(12)
    X, beta = rng.normal(size=(20, 25)), rng.normal(size=25)
    mass = cs.mass_outside(X, beta, dt.Dropout(0.5), rng=rng, n_samples=1024)
    assert len(repr(mass)) <= 78 and "Monte Carlo, 1024 masks" in repr(mass)


def test_plot_outside_mass_draws_one_series_per_fit():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(13)
    X, beta = rng.normal(size=(10, 4)), rng.normal(size=4) * 3
    masses = {
        name: [cs.mass_outside(X, beta * k, dt.Dropout(d)) for d in (0.25, 0.5)]
        for k, name in enumerate(("dropout", "Rq"), start=1)
    }
    fig, ax = plt.subplots()
    cs.plot_outside_mass(ax, (0.25, 0.5), masses)
    assert len(ax.containers) == 2 and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["dropout", "$R^q$"]
    with pytest.raises(ValueError, match="one entry per rate"):
        cs.plot_outside_mass(ax, (0.25,), masses)
    plt.close(fig)

"""Tests of dropout_taylor.nn: backpropagation against finite differences (to 1e-6), the
Hessian diagonal against finite differences, the quadratic term against mask enumeration,
Monte Carlo against enumeration, the pole radius against the poles of tanh and sigmoid."""

import itertools

import mpmath
import numpy as np
import pytest
from scipy import special

from dropout_taylor import cumulants as cu
from dropout_taylor import nn

CASES = [((5, 4, 3), "tanh"), ((5, 4, 3, 3), "tanh"), ((5, 4, 3, 3), "sigmoid"), ((5, 4, 3, 3), "relu"),
         ((5, 4, 4, 3), "relu")]


def _net(sizes, activation, seed=0, dropout_layer=1):
    rng = np.random.default_rng(seed)
    net = nn.init_mlp(sizes, activation, 0.4, rng, dropout_layer=dropout_layer)
    biases = tuple(0.3 * rng.standard_normal(b.shape) for b in net.biases)
    return nn.MLP(net.weights, biases, activation, net.delta, net.dropout_layer)


def _data(sizes, n=7, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, sizes[0])), rng.integers(0, sizes[-1], size=n)


@pytest.mark.parametrize("sizes, activation", CASES)
def test_gradient_matches_finite_differences(sizes, activation):
    net = _net(sizes, activation)
    X, y = _data(sizes)
    factor = nn.dropout_factors(net, len(X), np.random.default_rng(2))
    _, gW, gb = nn.loss_and_gradient(net, X, y, factor)
    eps = 1e-6
    for layer in range(net.depth):
        for kind, grads in (("W", gW), ("b", gb)):
            params = net.weights if kind == "W" else net.biases
            numeric = np.zeros_like(params[layer])
            for idx in np.ndindex(params[layer].shape):
                plus, minus = [list(params) for _ in range(2)]
                plus[layer] = params[layer].copy()
                minus[layer] = params[layer].copy()
                plus[layer][idx] += eps
                minus[layer][idx] -= eps
                def f(q, kind=kind):
                    weights, biases = (tuple(q), net.biases) if kind == "W" else (net.weights, tuple(q))
                    return nn.MLP(weights, biases, activation, net.delta, net.dropout_layer)

                numeric[idx] = (nn.loss(f(plus), X, y, factor) - nn.loss(f(minus), X, y, factor)) / (2 * eps)
            np.testing.assert_allclose(grads[layer], numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("sizes, activation", CASES)
def test_hessian_diagonal_matches_finite_differences(sizes, activation):
    net = _net(sizes, activation, dropout_layer=1)  # last hidden layer, or one layer below it
    X, y = _data(sizes)
    h = nn.hidden(net, X)
    diag = nn.dropout_hessian_diagonal(net, X, y)
    eps = 1e-4
    for j in range(h.shape[1]):
        e = np.zeros(h.shape[1])
        e[j] = eps
        values = [nn.cross_entropy(nn.head(net, h + s * e), y) for s in (1, 0, -1)]
        numeric = (values[0] - 2 * values[1] + values[2]) / eps**2
        np.testing.assert_allclose(diag[:, j], numeric, rtol=1e-5, atol=1e-7)


def test_quadratic_term_equals_enumerated_expectation_last_layer():
    net = _net((5, 6, 4), "tanh", dropout_layer=1)
    X, y = _data((5, 6, 4))
    z, _ = nn.forward(net, X)
    p = special.softmax(z, axis=1)
    masks = np.array(list(itertools.product([0, 1], repeat=6)), dtype=bool)
    prob = np.prod(np.where(masks, 1 - net.delta, net.delta), axis=1)
    u = np.broadcast_to(np.where(masks, net.r, -1.0), (len(X), len(masks), 6))
    Delta = nn.logit_perturbations(net, X, u)
    expected = cu.quadratic_term(np.repeat(p[:, None, :], len(masks), 1), Delta) @ prob
    clean = nn.cross_entropy(z, y)
    np.testing.assert_allclose(nn.quadratic_dropout_loss(net, X, y) - clean, expected, rtol=1e-12)
    # the logit perturbation is exactly the change of the logits
    np.testing.assert_allclose(Delta, nn.head(net, nn.hidden(net, X)[:, None, :] * (1 + u)) - z[:, None, :],
                               atol=1e-12)
    # and the exact dropout loss is the clean loss plus the average CGF at t = 1
    exact = clean + cu.cgf(np.repeat(p[:, None, :], len(masks), 1), Delta, 1.0) @ prob
    mc, se = nn.mc_dropout_loss(net, X, y, np.random.default_rng(3), n_masks=20000)
    assert np.all(np.abs(mc - exact) < 5 * se + 1e-12)


def test_training_is_deterministic_and_reduces_the_loss():
    X, y = _data((5, 6, 3), n=60)
    net0 = nn.init_mlp((5, 6, 3), "tanh", 0.3, np.random.default_rng(0))
    a, hist_a = nn.train(net0, X, y, np.random.default_rng(1), epochs=20)
    b, hist_b = nn.train(net0, X, y, np.random.default_rng(1), epochs=20)
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert hist_a[-1] < hist_a[0]
    np.testing.assert_array_equal(hist_a, hist_b)


@pytest.mark.parametrize("activation, height", [("tanh", mpmath.pi / 2), ("sigmoid", mpmath.pi)])
def test_pole_radius_is_a_pole(activation, height):
    net = _net((5, 4, 3, 3), activation, dropout_layer=1)
    X, y = _data((5, 4, 3, 3), n=3)
    u = nn.sample_u(net, 3, 5, np.random.default_rng(4))
    radius = nn.pole_radius(net, X, u)
    h = nn.hidden(net, X)
    a0 = h @ net.weights[1].T + net.biases[1]
    for i, m in itertools.product(range(3), range(5)):
        v = net.weights[1] @ (h[i] * u[i, m])
        # every pole of every unit, by brute force over m = -3..2, in mpmath
        best, unit = None, None
        for j, (a, b) in enumerate(zip(a0[i], v, strict=True)):
            for k in range(-3, 3):
                pole = (-mpmath.mpf(a) + 1j * height * (2 * k + 1)) / mpmath.mpf(b)
                if best is None or abs(pole) < abs(best):
                    best, unit = pole, j
        assert float(abs(best)) == pytest.approx(radius[i, m], rel=1e-12)
        f = {"tanh": mpmath.cosh, "sigmoid": lambda w: 1 + mpmath.exp(-w)}[activation]
        assert abs(f(mpmath.mpf(a0[i, unit]) + best * mpmath.mpf(v[unit]))) < 1e-10


def test_path_taylor_coefficients_match_finite_differences():
    net = _net((5, 4, 3, 3), "tanh", dropout_layer=1)
    X, y = _data((5, 4, 3, 3), n=1)
    u = nn.sample_u(net, 1, 1, np.random.default_rng(5))[0, 0]
    R = nn.pole_radius(net, X, u[None, None, :])[0, 0]
    c = nn.path_taylor_coefficients(net, X[0], int(y[0]), u, 0.5 * R, n_points=256)
    eps = 1e-3 * R
    f = [nn.path_losses(net, X, y, u[None, None, :], np.array([[s * eps]]))[0, 0] for s in (-1, 0, 1)]
    assert c[0].real == pytest.approx(f[1], rel=1e-10)
    assert c[1].real == pytest.approx((f[2] - f[0]) / (2 * eps), rel=1e-5)
    assert c[2].real == pytest.approx((f[2] - 2 * f[1] + f[0]) / (2 * eps**2), rel=1e-4)
    assert np.max(np.abs(c[:20].imag)) < 1e-8


def test_bad_input():
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.init_mlp((3, 2, 2), "gelu", 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="dropout_layer must be an integer"):
        nn.init_mlp((3, 2, 2), "tanh", 0.5, np.random.default_rng(0), dropout_layer=2)
    with pytest.raises(ValueError, match="delta must be"):
        nn.init_mlp((3, 2, 2), "tanh", 1.0, np.random.default_rng(0))
    net = nn.init_mlp((3, 2, 2, 2), "relu", 0.5, np.random.default_rng(0), dropout_layer=1)
    with pytest.raises(ValueError, match="tanh or sigmoid"):
        nn.complex_path_loss(net, np.ones(3), 0, np.ones(2), 0.5j)


@pytest.mark.parametrize("activation, height", [("tanh", np.pi / 2), ("sigmoid", np.pi)])
def test_nearest_pole_is_a_pole_of_modulus_pole_radius(activation, height):
    net = _net((5, 4, 3, 3), activation, dropout_layer=1)
    X, _ = _data((5, 4, 3, 3), n=3)
    u = nn.sample_u(net, 3, 4, np.random.default_rng(5))
    radius = nn.pole_radius(net, X, u)
    h = nn.hidden(net, X)
    for i, m in itertools.product(range(3), range(4)):
        t = nn.nearest_pole(net, X[i], u[i, m])
        assert abs(t) == pytest.approx(radius[i, m], rel=1e-12) and t.imag > 0
        a = net.weights[1] @ (h[i] * (1 + t * u[i, m])) + net.biases[1]
        # tanh is singular where cosh(a) = 0, the sigmoid where 1 + e^{-a} = 0
        f = {"tanh": np.cosh, "sigmoid": lambda w: 1 + np.exp(-w)}[activation]
        j = int(np.argmin(np.abs(f(a))))
        assert abs(f(a[j])) < 1e-9
        # the nearest pole is a first one: a_j = +-i c exactly, not a higher i c (2m + 1)
        assert abs(a[j].real) < 1e-9 and abs(a[j].imag) == pytest.approx(height, rel=1e-9)
    with pytest.raises(ValueError, match="activation"):
        relu = _net((5, 4, 3, 3), "relu", dropout_layer=1)
        nn.nearest_pole(relu, X[0], u[0, 0])


def _last_layer_case():
    rng = np.random.default_rng(7)
    net = nn.init_mlp((4, 3, 3), "tanh", 0.5, rng)
    X = rng.standard_normal((5, 4))
    y = rng.integers(0, 3, size=5)
    masks = np.array(list(itertools.product([1.0, -1.0], repeat=3)))  # u = r = 1 or -1
    # exact penalty by enumeration of the 8 equally likely masks, through the forward pass
    h = nn.hidden(net, X)
    clean = nn.cross_entropy(nn.head(net, h), y)
    dropped = [nn.cross_entropy(nn.head(net, h * (1 + u)), y) for u in masks]
    return net, X, y, masks, np.mean(dropped, axis=0) - clean


def test_last_layer_penalty_is_exact_over_all_masks_at_delta_half():
    net, X, y, masks, exact = _last_layer_case()
    u = np.broadcast_to(masks, (len(X), *masks.shape))
    R, se, Rq = nn.last_layer_penalty(net, X, y, u)
    np.testing.assert_allclose(R, exact, rtol=1e-12, atol=1e-15)
    # R^q is the enumerated mean of Var_p(Delta) / 2
    p = special.softmax(nn.forward(net, X)[0], axis=1)
    Delta = nn.logit_perturbations(net, X, u)
    variance = np.einsum("nk,nmk->nm", p, Delta**2) - np.einsum("nk,nmk->nm", p, Delta) ** 2
    np.testing.assert_allclose(Rq, variance.mean(axis=1) / 2, rtol=1e-12)
    assert np.all(se >= 0)
    with pytest.raises(ValueError, match="u must"):
        nn.last_layer_penalty(net, X, y, u[:2])


def test_mc_penalty_agrees_with_enumeration():
    net, X, y, _, exact = _last_layer_case()
    R, se, Rq = nn.mc_penalty(net, X, y, np.random.default_rng(8), n_masks=4000)
    assert np.all(np.abs(R - exact) < 5 * se + 1e-12)
    np.testing.assert_allclose(Rq, nn.last_layer_penalty(
        net, X, y, nn.sample_u(net, len(X), 2, np.random.default_rng(0)))[2])
    with pytest.raises(ValueError, match="n_masks"):
        nn.mc_penalty(net, X, y, np.random.default_rng(0), n_masks=1)


def test_plots_draw_without_error():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2)
    R = np.array([0.1, 0.02, 0.3])
    nn.plot_penalty_by_example(axes[0, 0], axes[1, 0], R, R / 10, R / 3, np.array([0, 0.1, 0.4]))
    assert len(axes[0, 0].lines) == 2 and len(axes[1, 0].patches) == 3
    nn.plot_path_distances(axes[0, 1], np.array([0.5, 2.0, 1.5]), np.array([0.1, np.inf, 3.0]))
    assert axes[0, 1].get_xscale() == "log" and len(axes[0, 1].lines) == 1
    nn.plot_ratio_cdf(axes[1, 1], {"a": R / 3, "b": -R}, {"a": R, "b": R})
    assert len(axes[1, 1].lines) == 3  # two curves and the line at 1
    with pytest.raises(ValueError, match="same length"):
        nn.plot_penalty_by_example(axes[0, 0], axes[1, 0], R, R[:2], R, R)
    with pytest.raises(ValueError, match="same keys"):
        nn.plot_ratio_cdf(axes[1, 1], {"a": R}, {"b": R})
    plt.close(fig)

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

"""A small multi-layer perceptron in numpy with dropout on one hidden layer (chapter 6).

Layers ``h_0 = x``, ``a_l = W_l h_{l-1} + b_l``, ``h_l = act(a_l)`` for the hidden layers and
logits ``z = a_L``; the loss is the cross-entropy ``LSE(z) - z_y``. Dropout acts on the output
of one hidden layer (``dropout_layer``): ``h_tilde = h * m / (1 - delta)``, ``m_j ~
Bernoulli(1 - delta)`` ("inverted" dropout, so ``E h_tilde = h`` and the clean network is the
mean network). Write ``h_tilde = h * (1 + u)``: ``u_j = r = delta / (1 - delta)`` when unit j is
kept and ``-1`` when it is dropped, exactly the ``u`` of chapter 1.

* When the dropout layer is the last hidden layer, the logits move by ``Delta = W_L (h * u)``,
  linear in the mask, and the dropout regulariser is an average of softmax CGFs
  (:mod:`dropout_taylor.cumulants`).
* When it sits below a nonlinearity, the logits are a nonlinear function of the mask; along the
  path ``h * (1 + t u)`` the loss has the singularities of the activation (tanh: poles at
  ``a = i pi (m + 1/2)``; sigmoid: ``a = i pi (2m + 1)``) or its kinks (ReLU).

Everything is vectorised over examples; training is deterministic given the ``rng``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from . import _validate
from .cumulants import cgf, quadratic_term

Array = NDArray[np.float64]

#: Activations: name -> (f, f', f''). tanh and sigmoid accept complex arguments.
ACTIVATIONS = {
    "tanh": (np.tanh, lambda a: 1 - np.tanh(a) ** 2, lambda a: -2 * np.tanh(a) * (1 - np.tanh(a) ** 2)),
    "sigmoid": (
        lambda a: 1 / (1 + np.exp(-a)),
        lambda a: special.expit(a) * special.expit(-a),
        lambda a: special.expit(a) * special.expit(-a) * (special.expit(-a) - special.expit(a)),
    ),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a: (a > 0).astype(float), lambda a: np.zeros_like(a)),
}

#: Distance in ``Im a`` from the real axis to the nearest complex singularity of the activation
#: (tanh: poles at ``i pi / 2``; sigmoid: poles at ``i pi``; ReLU has a kink on the real axis).
POLE_HEIGHT = {"tanh": np.pi / 2, "sigmoid": np.pi}


@dataclass(frozen=True)
class MLP:
    """Weights ``W_l`` (shape ``(n_l, n_{l-1})``), biases ``b_l``, the activation, the dropout
    rate ``delta`` and the (1-based) hidden layer ``dropout_layer`` whose output is dropped."""

    weights: tuple[Array, ...]
    biases: tuple[Array, ...]
    activation: str
    delta: float
    dropout_layer: int

    @property
    def r(self) -> float:
        """``r = delta / (1 - delta)``: a kept unit's output is multiplied by ``1 + r``."""
        return self.delta / (1.0 - self.delta)

    @property
    def depth(self) -> int:
        """Number of weight layers ``L`` (hidden layers + 1)."""
        return len(self.weights)


def init_mlp(
    sizes: Sequence[int],
    activation: str,
    delta: float,
    rng: np.random.Generator,
    dropout_layer: int | None = None,
) -> MLP:
    """A network with layer widths ``sizes = (d, n_1, ..., n_{L-1}, K)``, Glorot-uniform weights
    (He-uniform for ReLU), zero biases; dropout on ``dropout_layer`` (default: the last hidden)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    sizes = [int(s) for s in sizes]
    if len(sizes) < 3 or min(sizes) < 1:
        raise ValueError(f"sizes must list >= 3 positive widths (input, hidden..., classes), got {sizes}")
    delta = _validate.rate(delta)
    n_hidden = len(sizes) - 2
    layer = n_hidden if dropout_layer is None else int(dropout_layer)
    if not 1 <= layer <= n_hidden:
        raise ValueError(f"dropout_layer must be an integer in [1, {n_hidden}], got {dropout_layer!r}")
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        gain = 6.0 if activation == "relu" else 6.0 * fan_in / (fan_in + fan_out)
        limit = np.sqrt(gain / fan_in)
        weights.append(rng.uniform(-limit, limit, size=(fan_out, fan_in)))
        biases.append(np.zeros(fan_out))
    return MLP(tuple(weights), tuple(biases), activation, delta, layer)


def _factor(net: MLP, n: int, factor: ArrayLike | None):
    width = net.weights[net.dropout_layer - 1].shape[0]
    if factor is None:
        return None
    f = np.asarray(factor)
    if f.shape[-1] != width:
        raise ValueError(f"factor must have {width} entries (the dropout layer's width) on its last axis")
    return f


def forward(net: MLP, X: ArrayLike, factor: ArrayLike | None = None) -> tuple[Array, list[Array]]:
    """Logits ``z`` (n, K) and the cache ``[h_0, a_1, h_1, ..., a_L]`` for backpropagation.

    ``factor`` multiplies the output of the dropout layer: ``m / (1 - delta)`` for a dropout
    mask (:func:`dropout_factors`), ``1 + t u`` along a mask path, ``None`` for the clean net.
    """
    X = _validate.finite_array(X, "X", ndim=2)
    factor = _factor(net, X.shape[0], factor)
    act = ACTIVATIONS[net.activation][0]
    h = X
    cache = [h]
    for layer, (W, b) in enumerate(zip(net.weights, net.biases, strict=True), start=1):
        a = h @ W.T + b
        cache.append(a)
        if layer == net.depth:
            return a, cache
        h = act(a)
        if layer == net.dropout_layer and factor is not None:
            h = h * factor
        cache.append(h)
    raise AssertionError("unreachable")


def hidden(net: MLP, X: ArrayLike) -> Array:
    """Clean output ``h`` of the dropout layer (before dropout), shape (n, width)."""
    _, cache = forward(net, X)
    return cache[2 * net.dropout_layer]


def head(net: MLP, h_tilde: ArrayLike) -> NDArray:
    """Logits as a function of the dropout layer's (noisy) output ``h_tilde`` (..., width).

    Complex ``h_tilde`` is allowed for tanh and sigmoid (used for the complex path of chapter 6).
    """
    h = np.asarray(h_tilde)
    act = ACTIVATIONS[net.activation][0]
    for layer in range(net.dropout_layer + 1, net.depth + 1):
        a = h @ net.weights[layer - 1].T + net.biases[layer - 1]
        h = a if layer == net.depth else act(a)
    return h


def cross_entropy(logits: ArrayLike, y: ArrayLike) -> Array:
    """Per-example loss ``LSE(z) - z_y`` (real logits; labels are integers in [0, K))."""
    z = np.asarray(logits, dtype=float)
    y = np.asarray(y)
    return special.logsumexp(z, axis=-1) - np.take_along_axis(z, y[..., None], axis=-1)[..., 0]


def loss(net: MLP, X: ArrayLike, y: ArrayLike, factor: ArrayLike | None = None) -> float:
    """Mean cross-entropy of the network (with the given dropout ``factor``)."""
    z, _ = forward(net, X, factor)
    return float(np.mean(cross_entropy(z, y)))


def loss_and_gradient(
    net: MLP, X: ArrayLike, y: ArrayLike, factor: ArrayLike | None = None
) -> tuple[float, list[Array], list[Array]]:
    """Mean cross-entropy and its gradients ``(dL/dW_l, dL/db_l)`` by backpropagation.

    ``dL/dz = (softmax(z) - onehot(y)) / n``; through a linear layer ``dL/dh = dL/da W`` and
    ``dL/dW = dL/da^T h``; through the activation ``dL/da = dL/dh * act'(a)``, times ``factor``
    at the dropout layer (checked against finite differences in ``tests/test_nn.py``).
    """
    y = np.asarray(y)
    z, cache = forward(net, X, factor)
    n = z.shape[0]
    grad_z = special.softmax(z, axis=1)
    grad_z[np.arange(n), y] -= 1.0
    g = grad_z / n
    d_act = ACTIVATIONS[net.activation][1]
    grads_W: list[Array] = [np.empty(0)] * net.depth
    grads_b: list[Array] = [np.empty(0)] * net.depth
    for layer in range(net.depth, 0, -1):
        h_prev = cache[2 * layer - 2]
        grads_W[layer - 1] = g.T @ h_prev
        grads_b[layer - 1] = g.sum(axis=0)
        if layer == 1:
            break
        g = g @ net.weights[layer - 1]
        if layer - 1 == net.dropout_layer and factor is not None:
            g = g * factor
        g = g * d_act(cache[2 * layer - 3])
    value = float(np.mean(cross_entropy(z, y)))
    return value, grads_W, grads_b


def dropout_factors(net: MLP, n: int, rng: np.random.Generator) -> Array:
    """One dropout draw for n examples: ``m / (1 - delta)``, ``m_j ~ Bernoulli(1 - delta)``."""
    width = net.weights[net.dropout_layer - 1].shape[0]
    keep = rng.random((n, width)) >= net.delta
    return keep / (1.0 - net.delta)


def train(
    net: MLP,
    X: ArrayLike,
    y: ArrayLike,
    rng: np.random.Generator,
    epochs: int = 60,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
) -> tuple[MLP, Array]:
    """Dropout training with Adam (Kingma & Ba defaults) on shuffled mini-batches.

    A fresh dropout mask per example and step, all drawn from ``rng``; returns the trained
    network and the mean training loss of every epoch (under dropout).
    """
    X = _validate.finite_array(X, "X", ndim=2)
    y = np.asarray(y)
    epochs = _validate.order(epochs, "epochs")
    batch_size = _validate.order(batch_size, "batch_size", low=1)
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a finite real number > 0, got {learning_rate!r}")
    params = [*net.weights, *net.biases]
    m = [np.zeros_like(q) for q in params]
    v = [np.zeros_like(q) for q in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step = 0
    history = np.zeros(epochs)
    for epoch in range(epochs):
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            current = replace(net, weights=tuple(params[: net.depth]), biases=tuple(params[net.depth :]))
            value, gW, gb = loss_and_gradient(current, X[idx], y[idx], dropout_factors(net, len(idx), rng))
            total += value * len(idx)
            step += 1
            for i, g in enumerate([*gW, *gb]):
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g**2
                m_hat = m[i] / (1 - beta1**step)
                v_hat = v[i] / (1 - beta2**step)
                params[i] = params[i] - learning_rate * m_hat / (np.sqrt(v_hat) + eps)
        history[epoch] = total / len(X)
    trained = replace(net, weights=tuple(params[: net.depth]), biases=tuple(params[net.depth :]))
    return trained, history


def sample_u(net: MLP, n: int, n_masks: int, rng: np.random.Generator) -> Array:
    """Mask directions ``u`` (n, n_masks, width): ``r`` for a kept unit, ``-1`` for a dropped one."""
    width = net.weights[net.dropout_layer - 1].shape[0]
    keep = rng.random((n, n_masks, width)) >= net.delta
    return np.where(keep, net.r, -1.0)


def logit_perturbations(net: MLP, X: ArrayLike, u: ArrayLike) -> Array:
    """``Delta = W_L (h * u)`` (n, masks, K) when the dropout layer is the last hidden layer."""
    if net.dropout_layer != net.depth - 1:
        raise ValueError("logit_perturbations needs dropout on the last hidden layer (logits linear in u)")
    h = hidden(net, X)
    return np.einsum("nmj,kj->nmk", h[:, None, :] * np.asarray(u), net.weights[-1])


def path_losses(net: MLP, X: ArrayLike, y: ArrayLike, u: ArrayLike, t: ArrayLike) -> Array:
    """Loss ``l(t) = CE(head(h * (1 + t u)), y)`` along mask paths, real ``t``.

    ``u`` has shape (n, masks, width); ``t`` broadcasts against (n, masks). ``t = 1`` is the
    dropped-out network, ``t = 0`` the clean one.
    """
    h = hidden(net, X)
    t = np.asarray(t, dtype=float)
    factor = 1.0 + t[..., None] * np.asarray(u)
    z = head(net, h[:, None, :] * factor)
    labels = np.broadcast_to(np.asarray(y)[:, None], z.shape[:-1])
    return cross_entropy(z, labels)


def complex_path_loss(net: MLP, x: ArrayLike, y: int, u: ArrayLike, t: ArrayLike) -> NDArray[np.complex128]:
    """``l(t) = LSE(z(t)) - z_y(t)`` for one example and one mask direction at complex ``t``.

    ``log sum_k e^{z_k}`` is taken with the principal logarithm after removing ``max Re z``;
    callers that need a continuous branch on a circle unwrap the imaginary part (see
    :func:`dropout_taylor.cumulants.cauchy_coefficients`). tanh and sigmoid only.
    """
    if net.activation == "relu":
        raise ValueError("activation must be tanh or sigmoid for complex t (ReLU is not analytic)")
    x = _validate.finite_array(x, "x", ndim=1)
    h = hidden(net, x[None, :])[0]
    t = np.asarray(t, dtype=complex)
    z = head(net, h * (1.0 + t[..., None] * np.asarray(u)))
    shift = np.max(z.real, axis=-1, keepdims=True)
    return shift[..., 0] + np.log(np.sum(np.exp(z - shift), axis=-1)) - z[..., y]


def _path_above_dropout(net: MLP, X: ArrayLike, u: ArrayLike, caller: str) -> tuple[Array, Array]:
    """Pre-activations of the layer above the dropout layer along ``t``: ``a(t) = a_0 + t v``,
    ``a_0 = W h + b`` and ``v = W (h * u)`` for each example (n) and mask direction (m)."""
    if net.dropout_layer != net.depth - 2:
        raise ValueError(f"{caller} needs exactly one hidden layer above the dropout layer")
    h = hidden(net, X)
    W, b = net.weights[-2], net.biases[-2]
    a0 = h @ W.T + b
    v = np.einsum("nmj,ij->nmi", h[:, None, :] * np.asarray(u), W)
    return a0, v


def pole_radius(net: MLP, X: ArrayLike, u: ArrayLike) -> Array:
    """Distance from ``t = 0`` to the nearest activation pole on the mask path (n, masks).

    With one hidden layer above the dropout layer its pre-activation is affine in t,
    ``a(t) = a_0 + t v`` with ``v = W (h * u)``; unit j has poles where
    ``a_0j + t v_j = i c (2m + 1)`` (``c = pi/2`` for tanh, ``pi`` for sigmoid), the nearest at
    ``|t| = sqrt(a_0j^2 + c^2) / |v_j|``. The minimum over units is an upper bound on the radius
    of the loss's Taylor series in t whenever the outgoing weights of that unit are not equal
    across classes (then the pole survives in ``LSE(z) - z_y``).
    """
    if net.activation not in POLE_HEIGHT:
        raise ValueError(f"activation must be one of {sorted(POLE_HEIGHT)}, got {net.activation!r}")
    a0, v = _path_above_dropout(net, X, u, "pole_radius")
    with np.errstate(divide="ignore"):
        dist = np.hypot(a0[:, None, :], POLE_HEIGHT[net.activation]) / np.abs(v)
    return np.min(dist, axis=-1)


def kink_distance(net: MLP, X: ArrayLike, u: ArrayLike) -> Array:
    """ReLU: the smallest ``t > 0`` where a unit above the dropout layer changes sign on the path
    (``a_0j + t v_j = 0``), ``inf`` if none; the Taylor series at 0 describes one linear piece."""
    a0, v = _path_above_dropout(net, X, u, "kink_distance")
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -a0[:, None, :] / v
    return np.min(np.where(t > 0, t, np.inf), axis=-1)


def dropout_hessian_diagonal(net: MLP, X: ArrayLike, y: ArrayLike) -> Array:
    """Diagonal of the Hessian of the per-example loss in the dropout layer's output, (n, width).

    Last hidden layer: ``H = W_L^T (diag p - p p^T) W_L``. One hidden layer above, with
    ``B = W_L diag(act'(a)) W`` and ``e = p - onehot(y)``:
    ``H_jj = B_{:,j}^T (diag p - p p^T) B_{:,j} + sum_i W_ij^2 act''(a_i) (W_L^T e)_i``
    (the second term depends on the label; it vanishes for ReLU away from kinks).
    """
    y = np.asarray(y)
    h = hidden(net, X)
    if net.dropout_layer == net.depth - 1:
        p = special.softmax(h @ net.weights[-1].T + net.biases[-1], axis=1)
        W = net.weights[-1]
        return p @ W**2 - (p @ W) ** 2
    if net.dropout_layer != net.depth - 2:
        raise ValueError("dropout_hessian_diagonal supports at most one hidden layer above the dropout layer")
    _, d1, d2 = ACTIVATIONS[net.activation]
    W, b = net.weights[-2], net.biases[-2]
    WL, bL = net.weights[-1], net.biases[-1]
    a = h @ W.T + b
    z = ACTIVATIONS[net.activation][0](a) @ WL.T + bL
    p = special.softmax(z, axis=1)
    B = np.einsum("ki,ni,ij->nkj", WL, d1(a), W)
    first = np.einsum("nk,nkj->nj", p, B**2) - np.einsum("nk,nkj->nj", p, B) ** 2
    e = p.copy()
    e[np.arange(len(y)), y] -= 1.0
    second = np.einsum("ij,ni->nj", W**2, d2(a) * (e @ WL))
    return first + second


def quadratic_dropout_loss(net: MLP, X: ArrayLike, y: ArrayLike) -> Array:
    """Second-order approximation of the expected dropout loss, per example:
    ``l(h) + (r / 2) sum_j h_j^2 H_jj`` (the ``u_j`` are independent, mean 0, variance r, so the
    linear term averages out and only the Hessian's diagonal survives)."""
    z, _ = forward(net, X)
    h = hidden(net, X)
    return cross_entropy(z, y) + 0.5 * net.r * np.sum(h**2 * dropout_hessian_diagonal(net, X, y), axis=1)


def mc_dropout_loss(
    net: MLP, X: ArrayLike, y: ArrayLike, rng: np.random.Generator, n_masks: int = 2000
) -> tuple[Array, Array]:
    """Monte Carlo expected dropout loss per example and its standard error (``n_masks`` masks)."""
    X = _validate.finite_array(X, "X", ndim=2)
    y = np.asarray(y)
    h = hidden(net, X)
    width = h.shape[1]
    total = np.zeros(len(X))
    total_sq = np.zeros(len(X))
    block = max(1, (1 << 20) // (len(X) * width))
    done = 0
    while done < n_masks:
        m = min(block, n_masks - done)
        keep = rng.random((len(X), m, width)) >= net.delta
        z = head(net, h[:, None, :] * keep / (1.0 - net.delta))
        values = cross_entropy(z, np.broadcast_to(y[:, None], (len(X), m)))
        total += values.sum(axis=1)
        total_sq += (values**2).sum(axis=1)
        done += m
    mean = total / n_masks
    var = np.maximum(total_sq / n_masks - mean**2, 0.0)
    return mean, np.sqrt(var / n_masks)


def path_taylor_coefficients(
    net: MLP, x: ArrayLike, y: int, u: ArrayLike, rho: float, n_points: int = 1024
) -> NDArray[np.complex128]:
    """Taylor coefficients ``c_n`` of ``l(t)`` (:func:`complex_path_loss`) at 0, by Cauchy's formula.

    ``c_n = (1 / P) sum_j l(rho w^j) w^{-jn} / rho^n`` with ``w = e^{2 pi i / P}`` (one FFT), valid
    when ``l`` is analytic in ``|t| <= rho``; the imaginary part of the logarithm is unwrapped
    along the circle so the branch is the continuous one. The error is about
    ``eps max|l| / rho^n`` plus the aliased ``c_{n+P} rho^P``: use ``rho`` below the radius and
    ``n`` well below ``P``.
    """
    if not np.isfinite(rho) or rho <= 0:
        raise ValueError(f"rho must be a finite real number > 0, got {rho!r}")
    n_points = _validate.order(n_points, "n_points")
    if n_points < 8:
        raise ValueError(f"n_points must be an integer >= 8, got {n_points}")
    theta = 2 * np.pi * np.arange(n_points) / n_points
    values = complex_path_loss(net, x, y, u, rho * np.exp(1j * theta))
    values = values.real + 1j * np.unwrap(values.imag)
    return np.fft.fft(values) / n_points / rho ** np.arange(n_points)


def nearest_pole(net: MLP, x: ArrayLike, u: ArrayLike) -> complex:
    """The activation pole nearest to ``t = 0`` on the mask path of one example, in the upper
    half plane (its conjugate is the other): ``t = (-a_0j + i c sign(v_j)) / v_j`` for the unit
    ``j`` of least ``sqrt(a_0j^2 + c^2) / |v_j|`` (``c`` = :data:`POLE_HEIGHT`; chapter 6,
    proposition ``prop-pole``). Its modulus is :func:`pole_radius`."""
    x = _validate.finite_array(x, "x", ndim=1)
    u = _validate.finite_array(u, "u", ndim=1)
    radius = pole_radius(net, x[None, :], u[None, None, :])  # validates net
    h = hidden(net, x[None, :])[0]
    a0 = net.weights[-2] @ h + net.biases[-2]
    v = net.weights[-2] @ (h * u)
    c = POLE_HEIGHT[net.activation]
    if not np.isfinite(radius[0, 0]):
        raise ValueError("the path meets no pole: u leaves every unit's pre-activation fixed")
    with np.errstate(divide="ignore"):
        j = int(np.argmin(np.hypot(a0, c) / np.abs(v)))
    return complex((-a0[j] + 1j * c * np.sign(v[j])) / v[j])


def last_layer_penalty(net: MLP, X: ArrayLike, y: ArrayLike, u: ArrayLike) -> tuple[Array, Array, Array]:
    """The dropout penalty ``R = E_u K_{Delta(u)}(1)`` per example, with control variates.

    Last-layer dropout (chapter 6, eq. ``eq-network-penalty``): with ``Delta = W_L (h * u)``
    and ``p = softmax(z)``, ``R = R^q + E_u [K(1) - p . Delta - Var_p(Delta) / 2]``, because the
    first- and second-order Taylor terms have known means, ``E p . Delta = 0`` and
    ``E Var_p(Delta) / 2 = R^q``. ``u`` (n, masks, width) from :func:`sample_u`. Returns
    ``(R, its standard error, R^q)``; ``R^q`` from :func:`quadratic_dropout_loss`.
    """
    X = _validate.finite_array(X, "X", ndim=2)
    y = np.asarray(y)
    u = _validate.finite_array(u, "u", ndim=3)
    if u.shape[0] != X.shape[0] or u.shape[1] < 2:
        raise ValueError(f"u must have shape (n, masks >= 2, width) with n = {X.shape[0]}, got {u.shape}")
    logits = forward(net, X)[0]
    p = special.softmax(logits, axis=1)
    Delta = logit_perturbations(net, X, u)
    taylor2 = np.einsum("nk,nmk->nm", p, Delta) + quadratic_term(p[:, None, :], Delta)
    excess = cgf(p[:, None, :], Delta, 1.0) - taylor2
    Rq = quadratic_dropout_loss(net, X, y) - cross_entropy(logits, y)
    return Rq + excess.mean(axis=1), excess.std(axis=1, ddof=1) / np.sqrt(u.shape[1]), Rq


def mc_penalty(
    net: MLP, X: ArrayLike, y: ArrayLike, rng: np.random.Generator, n_masks: int = 2000
) -> tuple[Array, Array, Array]:
    """Dropout penalty by forward-pass Monte Carlo, per example: ``(R, its standard error, R^q)``
    with ``R = E loss(dropped) - loss(clean)`` from :func:`mc_dropout_loss` and the second-order
    ``R^q`` = :func:`quadratic_dropout_loss` minus the clean loss (chapter 6, "What the
    second-order term misses"). Works for dropout on any hidden layer."""
    if n_masks < 2:
        raise ValueError(f"n_masks must be an integer >= 2, got {n_masks}")
    clean = cross_entropy(forward(net, X)[0], y)
    mc, se = mc_dropout_loss(net, X, y, rng, n_masks=n_masks)
    return mc - clean, se, quadratic_dropout_loss(net, X, y) - clean


def plot_penalty_by_example(top, bottom, R: ArrayLike, R_se: ArrayLike, Rq: ArrayLike,
                            outside: ArrayLike) -> None:
    """Chapter 6, ``fig-last-layer``: examples sorted by ``R``; top, ``R`` with a band of two
    standard errors and ``R^q`` (log axis); bottom, the share of masks outside the radius."""
    from .plotting import PALETTE

    R, R_se, Rq, outside = (np.asarray(a, dtype=float) for a in (R, R_se, Rq, outside))
    if not R.shape == R_se.shape == Rq.shape == outside.shape or R.ndim != 1:
        raise ValueError("R, R_se, Rq and outside must be 1-d arrays of the same length")
    order = np.argsort(R)
    index = np.arange(R.size)
    low = np.maximum(R - 2 * R_se, R / 10)  # keep the band positive on the log axis
    top.fill_between(index, low[order], (R + 2 * R_se)[order], color=PALETTE[5], alpha=0.3)
    top.semilogy(index, R[order], color=PALETTE[5], label="exact penalty $R$ (Monte Carlo)")
    top.semilogy(index, Rq[order], ".", ms=3, color=PALETTE[6], label="second-order $R^q$")
    top.set(ylabel="penalty per example (nats)")
    top.legend()
    bottom.bar(index, 100 * outside[order], width=1.0, color=PALETTE[1])
    bottom.set(xlabel="test example (sorted by $R$)", ylabel="masks outside\nthe radius (%)")


def plot_path_distances(ax, pole_r: ArrayLike, kink_t: ArrayLike) -> None:
    """Chapter 6, ``fig-hidden`` left: histograms (log bins) of the distance along the mask
    path to the nearest tanh pole and to the first ReLU kink, with ``t = 1`` dashed."""
    from .plotting import PALETTE

    pole_r, kink_t = np.ravel(pole_r), np.ravel(kink_t)
    bins = np.logspace(-2, 1.5, 60)
    ax.hist(pole_r[np.isfinite(pole_r)], bins=bins, color=PALETTE[5], alpha=0.7,
            label="tanh: nearest pole")
    ax.hist(kink_t[np.isfinite(kink_t)], bins=bins, color=PALETTE[1], alpha=0.6,
            label="ReLU: first kink")
    ax.axvline(1.0, color="black", ls="--", lw=1)
    ax.set(xscale="log", xlabel="distance along the mask path, $t$", ylabel="number of masks")
    ax.legend()


def plot_ratio_cdf(ax, penalty_q: dict[str, ArrayLike], penalty: dict[str, ArrayLike]) -> None:
    """Chapter 6, ``fig-hidden`` right: for each network the empirical distribution of
    ``R^q / R`` over examples on a log axis; negative ratios (wrong sign) are not drawn, so
    each curve starts at their share."""
    from .plotting import PALETTE

    if set(penalty_q) != set(penalty):
        raise ValueError("penalty_q and penalty must have the same keys")
    for colour, name in zip((PALETTE[3], PALETTE[5], PALETTE[1], PALETTE[6]), penalty, strict=False):
        ratio = np.sort(np.asarray(penalty_q[name]) / np.asarray(penalty[name]))
        share = np.arange(1, ratio.size + 1) / ratio.size
        ax.plot(ratio[ratio > 0], share[ratio > 0], color=colour, label=name)
    ax.axvline(1.0, color="black", ls="--", lw=1)
    ax.set(xscale="log", xlabel=r"$R^q / R$ (1 = exact)", ylabel="fraction of test examples")
    ax.legend()

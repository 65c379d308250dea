"""Logistic regression fitted four ways: L2, real dropout (Monte Carlo or exact), and R^q.

Every fit minimises a *sum* over the n examples (not a mean) of the logistic loss
``A(z_i) - y_i z_i``, ``A = softplus``, ``z_i = x_i . beta``, plus a penalty:

* :func:`fit_l2`: ``+ lam/2 sum_{j penalised} beta_j^2`` (ridge; an intercept column is left
  unpenalised with ``penalize``);
* :func:`fit_dropout`: the loss averaged over dropout,
  ``sum_i E [A(x_tilde_i . beta) - y_i x_tilde_i . beta]`` (which is
  ``sum_i E A(x_tilde_i . beta) - y_i x_i . beta``, as ``E x_tilde = x``), with the expectation
  replaced by the mean over ``n_masks`` masks per example drawn once from ``rng`` (so the
  objective, and the fit, are deterministic for a given seed);
* :func:`fit_dropout_exact`: the same expectation computed exactly by enumerating all
  ``2^k`` masks of the ``k`` noisy features;
* :func:`fit_quadratic`: the clean loss plus the quadratic approximation
  ``R^q(beta) = 1/2 sum_i A''(z_i) Var Delta_i`` of Wager, Wang & Liang (2013);
* :func:`fit_in_l2_ball`: the clean loss under the constraint ``||beta_penalised||_2 <= t``.

The Monte Carlo objective is the plain training loss on the ``n * n_masks`` noised copies
``(x_tilde_im, y_i)``: what dropout training by stochastic gradients averages over. (Replacing
its label term by its exact mean ``y_i x_i . beta`` would lower the variance but make the
objective unbounded below for a finite set of masks.)

All objectives come with analytic gradients and are minimised with ``scipy.optimize``
(L-BFGS-B; Newton's method for the L2 fit, whose Hessian is cheap), starting from zero.
Labels are ``y_i`` in {0, 1}. Used in chapter 4 (``04_constraints``: the optima tested against
the radius of convergence) and chapter 5 (``05_cost``: what the approximation costs).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, optimize, special

try:  # installed with scikit-learn; without it, BLAS keeps its own thread count
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    from contextlib import nullcontext

    def threadpool_limits(limits: int | None = None, user_api: str | None = None) -> nullcontext:
        return nullcontext()

from . import _validate
from .noise import MAX_ENUMERATION_FEATURES, enumerate_masks

Objective = Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]]

#: Masks evaluated per block in the exact dropout objective, times n, stays under this many floats.
_BLOCK_FLOATS = 1 << 21


# ----------------------------------------------------------------------------- data


def breast_cancer_design() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """scikit-learn's bundled breast-cancer data as ``(X, y, noisy)`` (no download).

    ``X`` has n = 569 rows and 31 columns: column 0 is an intercept (all ones), columns 1..30
    the 30 features standardised to mean 0 and variance 1 (population standard deviation).
    ``y`` is scikit-learn's target: 1 = benign, 0 = malignant.
    ``noisy`` is the boolean mask of the columns dropout acts on (all but the intercept).
    """
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    features = np.asarray(data.data, dtype=float)
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    X = np.hstack([np.ones((features.shape[0], 1)), features])
    noisy = np.ones(X.shape[1], dtype=bool)
    noisy[0] = False
    return X, np.asarray(data.target, dtype=float), noisy


# ----------------------------------------------------------------------------- checks


def _data(X: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    X = _validate.finite_array(X, "X", ndim=2)
    y = _validate.finite_array(y, "y", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one label per row of X: X has {X.shape[0]} rows, y has {y.shape[0]}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must contain only the labels 0 and 1")
    return X, y


# ----------------------------------------------------------------------------- objectives


def logistic_loss(X: ArrayLike, y: ArrayLike, beta: ArrayLike) -> tuple[float, NDArray[np.float64]]:
    """The clean loss ``sum_i A(z_i) - y_i z_i`` and its gradient ``X^T (sigma(z) - y)``."""
    X, y = _data(X, y)
    X, beta = _validate.design(X, beta)
    return _logistic(X, y, beta)


def _logistic(X, y, beta):
    z = X @ beta
    return float(np.sum(np.logaddexp(0.0, z) - y * z)), X.T @ (special.expit(z) - y)


def l2_objective(X: ArrayLike, y: ArrayLike, lam: float, penalize: ArrayLike | None = None) -> Objective:
    """``beta -> (F, grad F)`` with ``F = sum_i A(z_i) - y_i z_i + lam/2 sum_{j in penalize} beta_j^2``."""
    X, y = _data(X, y)
    lam = _validate.scale(lam, "lam")
    pen = _validate.feature_mask(penalize, X.shape[1], "penalize").astype(float)

    def objective(beta):
        value, grad = _logistic(X, y, beta)
        return value + 0.5 * lam * float(np.sum(pen * beta**2)), grad + lam * pen * beta

    return objective


def quadratic_objective(
    X: ArrayLike, y: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> Objective:
    """``beta -> (F, grad F)``, ``F = sum_i A(z_i) - y_i z_i + 1/2 sum_i A''(z_i) r v_i`` (chapter 2).

    ``v_i = sum_{j noisy} x_ij^2 beta_j^2``, ``r = delta / (1 - delta)``, so ``r v_i = Var Delta_i``
    under dropout. Gradient: ``X^T (sigma - y) + r/2 X^T (A''' v) + r beta_j sum_i A''(z_i) x_ij^2``
    on the noisy j, with ``A'' = s t`` and ``A''' = s t (t - s)``, ``s = sigma(z)``, ``t = sigma(-z)``.
    """
    X, y = _data(X, y)
    r = _validate.rate(delta) / (1.0 - delta)
    keep = _validate.feature_mask(noisy, X.shape[1]).astype(float)
    X2 = X**2 * keep

    def objective(beta):
        z = X @ beta
        s, t = special.expit(z), special.expit(-z)
        a2, a3 = s * t, s * t * (t - s)
        v = X2 @ beta**2
        value = float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * r * np.sum(a2 * v))
        grad = X.T @ (s - y + 0.5 * r * a3 * v) + r * beta * (X2.T @ a2)
        return value, grad

    return objective


def dropout_design(
    X: ArrayLike, delta: float, rng: np.random.Generator, n_masks: int, noisy: ArrayLike | None = None
) -> NDArray[np.float64]:
    """The noised designs ``x_tilde_im`` for ``n_masks`` masks per example, shape ``(n, n_masks, d)``.

    Noisy column j becomes ``x_ij m_imj / (1 - delta)``, ``m_imj ~ Bernoulli(1 - delta)`` i.i.d.
    (one ``rng.random((n, n_masks, d))`` draw); the other columns are copied unchanged.
    """
    X = _validate.finite_array(X, "X", ndim=2)
    delta = _validate.rate(delta)
    n_masks = _validate.order(n_masks, "n_masks", low=1)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    keep = _validate.feature_mask(noisy, X.shape[1])
    kept = rng.random((X.shape[0], n_masks, X.shape[1])) >= delta
    factor = np.where(keep, kept / (1.0 - delta), 1.0)
    return X[:, None, :] * factor


def dropout_objective(
    X: ArrayLike,
    y: ArrayLike,
    delta: float,
    rng: np.random.Generator,
    n_masks: int,
    noisy: ArrayLike | None = None,
) -> Objective:
    """Monte Carlo dropout objective ``F = sum_i 1/M sum_m [A(x_tilde_im . beta) - y_i x_tilde_im . beta]``.

    The training loss on the ``n M`` noised copies, with the masks drawn once
    (:func:`dropout_design`): a fixed, smooth, convex function of beta whose expectation over
    the masks is the exact dropout objective. Gradient
    ``sum_i 1/M sum_m (sigma(x_tilde_im . beta) - y_i) x_tilde_im``.
    """
    X, y = _data(X, y)
    tilde = dropout_design(X, delta, rng, n_masks, noisy).reshape(-1, X.shape[1])
    labels = np.repeat(y, n_masks)
    m = float(n_masks)

    def objective(beta):
        z_tilde = tilde @ beta
        value = float(np.sum(np.logaddexp(0.0, z_tilde) - labels * z_tilde)) / m
        return value, tilde.T @ (special.expit(z_tilde) - labels) / m

    return objective


def dropout_objective_exact(
    X: ArrayLike, y: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> Objective:
    """Exact dropout objective ``F = sum_i [sum_m P(m) A(x_tilde_i(m) . beta) - y_i x_i . beta]``.

    All ``2^k`` masks of the ``k <= 20`` noisy features are enumerated (``noise.enumerate_masks``,
    probabilities ``(1 - delta)^kept delta^dropped``), in blocks so memory stays bounded. The
    cost of one evaluation is about ``2 n k 2^k`` flops: fine up to k of about 12 at n = 569.
    """
    X, y = _data(X, y)
    delta = _validate.rate(delta)
    keep = _validate.feature_mask(noisy, X.shape[1])
    k = int(keep.sum())
    if k > MAX_ENUMERATION_FEATURES:
        raise ValueError(
            f"noisy selects {k} features: exact enumeration needs at most {MAX_ENUMERATION_FEATURES}; "
            "use fit_dropout (Monte Carlo) instead"
        )
    masks = enumerate_masks(k)
    kept = masks.sum(axis=1)
    prob = (1.0 - delta) ** kept * delta ** (k - kept)
    scale = masks / (1.0 - delta)  # x_tilde_j / x_j on the noisy features
    XN, XC = X[:, keep], X[:, ~keep]
    label = X.T @ y
    block = max(1, _BLOCK_FLOATS // max(X.shape[0], 1))

    def objective(beta):
        z_clean = XC @ beta[~keep]
        a = XN * beta[keep]
        value = 0.0
        g_noisy = np.zeros(k)
        weight_sum = np.zeros(X.shape[0])
        for start in range(0, len(prob), block):
            sl = slice(start, start + block)
            z_tilde = z_clean[:, None] + a @ scale[sl].T
            value += float(np.logaddexp(0.0, z_tilde).sum(axis=0) @ prob[sl])
            w = special.expit(z_tilde) * prob[sl]
            weight_sum += w.sum(axis=1)
            g_noisy += np.einsum("ij,ij->j", XN, w @ scale[sl])
        grad = np.empty(X.shape[1])
        grad[keep] = g_noisy
        grad[~keep] = XC.T @ weight_sum
        return value - float(label @ beta), grad - label

    return objective


# ----------------------------------------------------------------------------- fits


def minimize(objective: Objective, d: int, gtol: float = 1e-9) -> NDArray[np.float64]:
    """Minimise ``objective`` (value and gradient) from ``beta = 0`` with L-BFGS-B.

    Stops when the largest gradient entry is below ``gtol`` (absolute: the objectives are sums
    over examples), or at the relative-decrease floor of double precision. BLAS runs on one
    thread: the products are small and threads only add overhead (and contention). Raises
    ``RuntimeError`` if the optimiser reports a failure other than that floor.
    """
    with threadpool_limits(limits=1, user_api="blas"):  # small products: threads only cost
        result = optimize.minimize(
            objective,
            np.zeros(d),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 20000, "maxcor": 30, "ftol": 1e-16, "gtol": gtol},
        )
    if not result.success and "ABNORMAL" not in str(result.message).upper():
        raise RuntimeError(f"L-BFGS-B did not converge: {result.message}")
    return np.asarray(result.x)


def fit_l2(X: ArrayLike, y: ArrayLike, lam: float, penalize: ArrayLike | None = None) -> NDArray[np.float64]:
    """Ridge logistic regression: ``argmin sum_i [A(z_i) - y_i z_i] + lam/2 sum_{j in penalize} beta_j^2``.

    ``penalize`` is a boolean mask (default: every coefficient); leave an intercept column out
    of it. Equivalent to scikit-learn's ``LogisticRegression(C=1/lam, penalty="l2")`` with
    ``fit_intercept=True`` on ``X`` without the intercept column (tests/test_fitting.py checks
    this to 1e-6). Solved by Newton's method with backtracking and the exact Hessian
    ``X^T diag(p(1-p)) X + lam diag(penalize)``, to a gradient below 1e-10 times n. With
    ``lam = 0`` on separable data there is no minimiser and the fit raises ``RuntimeError``.
    """
    X, y = _data(X, y)
    objective = l2_objective(X, y, lam, penalize)
    pen = _validate.feature_mask(penalize, X.shape[1], "penalize").astype(float)
    lam = float(lam)

    def hess(beta):
        z = X @ beta
        w = special.expit(z) * special.expit(-z)
        return (X.T * w) @ X + lam * np.diag(pen)

    tol = 1e-10 * max(X.shape[0], 1)
    beta = np.zeros(X.shape[1])
    value, grad = objective(beta)
    for _ in range(200):
        gmax = float(np.max(np.abs(grad)))
        if gmax <= tol:
            return beta
        step = linalg.solve(hess(beta), grad, assume_a="pos")
        decrement = float(grad @ step)
        if decrement < 1e-10 * (1.0 + abs(value)):
            # quadratic regime: the full step is right, and the loss is flat to rounding
            trial = beta - step
            trial_value, trial_grad = objective(trial)
            if np.max(np.abs(trial_grad)) >= gmax:
                return beta  # no progress possible in double precision
            beta, value, grad = trial, trial_value, trial_grad
            continue
        t = 1.0
        while True:  # backtracking (Armijo) line search
            trial = beta - t * step
            trial_value, trial_grad = objective(trial)
            if trial_value <= value - 1e-4 * t * decrement or t < 1e-10:
                break
            t /= 2
        beta, value, grad = trial, trial_value, trial_grad
    raise RuntimeError("the L2 fit did not converge in 200 Newton steps; is lam > 0 or the data separable?")


def fit_dropout(
    X: ArrayLike,
    y: ArrayLike,
    delta: float,
    rng: np.random.Generator,
    n_masks: int = 64,
    noisy: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Logistic regression trained with dropout, marginalised by Monte Carlo (chapter 4).

    Minimises :func:`dropout_objective`: ``n_masks`` masks per example drawn once from ``rng``
    (deterministic for a seeded generator), analytic gradient, L-BFGS-B from zero. The
    objective is convex (a mean of convex functions of beta), so the optimum is unique when it
    exists. ``noisy`` selects the dropped columns (leave the intercept out).
    """
    X, y = _data(X, y)
    return minimize(dropout_objective(X, y, delta, rng, n_masks, noisy), X.shape[1])


def fit_dropout_exact(
    X: ArrayLike, y: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Logistic regression trained with dropout, marginalised exactly (all ``2^k`` masks).

    Minimises :func:`dropout_objective_exact` with L-BFGS-B; needs ``k <= 20`` noisy features
    and is practical up to k of about 12 at n in the hundreds.
    """
    X, y = _data(X, y)
    return minimize(dropout_objective_exact(X, y, delta, noisy), X.shape[1])


def fit_quadratic(
    X: ArrayLike, y: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Logistic regression with the quadratic dropout penalty ``R^q`` of Wager, Wang & Liang (2013).

    Minimises :func:`quadratic_objective` with L-BFGS-B from zero. ``R^q`` is not convex (its
    weights ``A''(z_i)`` decay as the scores grow), so this returns the local minimum reached
    from ``beta = 0``.
    """
    X, y = _data(X, y)
    return minimize(quadratic_objective(X, y, delta, noisy), X.shape[1])


def fit_in_l2_ball(
    X: ArrayLike, y: ArrayLike, t: float, penalize: ArrayLike | None = None
) -> NDArray[np.float64]:
    """The best logistic fit with ``||beta_penalize||_2 <= t``: ``argmin sum_i A(z_i) - y_i z_i``
    under that constraint (chapter 4: the best model inside the largest admissible L2 ball).

    By the KKT conditions the solution is the ridge fit :func:`fit_l2` whose penalised norm equals
    ``t`` (or the unconstrained fit if that is already inside): ``lam`` is found by bisection on
    ``log lam`` until the norm matches ``t`` to a relative 1e-10.
    """
    X, y = _data(X, y)
    t = _validate.scale(t, "t")
    if t == 0:
        raise ValueError("t must be > 0")
    pen = _validate.feature_mask(penalize, X.shape[1], "penalize")

    def norm_at(lam: float) -> tuple[float, NDArray[np.float64]]:
        beta = fit_l2(X, y, lam, pen)
        return float(np.linalg.norm(beta[pen])), beta

    high = 1.0
    size_high, beta_high = norm_at(high)
    while size_high > t:  # raise lam until the fit is inside the ball
        high *= 4
        size_high, beta_high = norm_at(high)
    low = high / 4
    size_low, _ = norm_at(low)
    while size_low <= t:  # lower lam until the fit leaves the ball (or the constraint is inactive)
        high, size_high, beta_high = low, size_low, _
        if low < 1e-10:
            return beta_high
        low /= 4
        size_low, _ = norm_at(low)
    while size_high < t * (1 - 1e-10) and high / low > 1 + 1e-15:  # invariant: low outside, high inside
        mid = math.sqrt(low * high)
        size_mid, beta_mid = norm_at(mid)
        if size_mid > t:
            low = mid
        else:
            high, size_high, beta_high = mid, size_mid, beta_mid
    return beta_high


def matched_l2_lambda(
    X: ArrayLike, beta: ArrayLike, delta: float, noisy: ArrayLike | None = None
) -> float:
    """The ridge strength that the quadratic approximation equates with dropout at ``beta``.

    ``lam = r (1/|N|) sum_{j in N} sum_i p_i (1 - p_i) x_ij^2`` with ``r = delta / (1 - delta)``
    and ``p_i = sigma(x_i . beta)``: the penalty ``R^q = (r/2) sum_j beta_j^2 sum_i p_i (1 - p_i)
    x_ij^2`` with its curvature weights frozen at ``beta`` and averaged over the dropped
    features ``N``, so that ``lam/2 ||beta_N||^2`` is the matched L2 penalty (chapter 4, the
    "matched L2" fit of the real-data section). ``delta`` must lie in [0, 1).
    """
    X, beta = _validate.design(X, beta)
    delta = _validate.rate(delta)
    keep = _validate.feature_mask(noisy, X.shape[1])
    if not keep.any():
        raise ValueError("noisy must select at least one feature")
    p = special.expit(X @ beta)
    return float(delta / (1 - delta) * np.mean((p * (1 - p)) @ X[:, keep] ** 2))

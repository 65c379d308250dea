"""Independent oracles for the checks of chapter 2, kept apart from the code they check.

Nothing here calls the library's noise models, regularisers or quadrature: the oracles start
from the distributions themselves (``sympy.stats``), from arbitrary-precision integration
(``mpmath.quad``) or from finite differences of a function supplied by the caller.

* :func:`score_perturbation_moments`: mean and variance of ``Delta`` under the three noise
  models, derived by ``sympy.stats`` (proposition ``prop-variance``);
* :func:`dropout_unit_moments`, :func:`dropout_unit_mgf`, :func:`normal_mgf`: moments and
  moment generating functions of the dropout unit ``u`` and of a normal law (theorems
  ``thm-poisson`` and ``thm-dropout-sign``);
* :func:`central_hessian_diagonal`: a second-difference Hessian diagonal (theorem
  ``thm-adaptive``);
* :func:`mp_gaussian_penalty`: ``E A(z + s xi) - A(z)`` for softplus at high precision
  (theorem ``thm-confident-limits``).
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import sympy as sp
import sympy.stats as ss
from numpy.typing import ArrayLike, NDArray

from . import _validate

#: Symbols of the sympy oracles: the dropout rate, the additive scale and the variance of the
#: multiplicative noise (all positive), the point of a moment generating function (real).
DELTA, SIGMA, R_VAR = sp.symbols("delta sigma r", positive=True)
X_POINT = sp.Symbol("x", real=True)
S_SCALE = sp.Symbol("s", positive=True)


def _dropout_unit(name: str) -> sp.Expr:
    """``u = m / (1 - delta) - 1`` with ``m ~ Bernoulli(1 - delta)``: ``r`` if kept, ``-1`` if not."""
    return ss.Bernoulli(name, 1 - DELTA) / (1 - DELTA) - 1


def score_perturbation_moments(n_features: int = 3) -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """``{model: (E Delta, Var Delta)}`` for dropout, additive and multiplicative Gaussian noise
    on ``n_features`` features, derived by ``sympy.stats`` from the distributions:

    * dropout: ``Delta = sum_j a_j (m_j / (1 - delta) - 1)``, ``m_j ~ Bernoulli(1 - delta)``;
    * additive: ``Delta = sum_j beta_j e_j``, ``e_j ~ N(0, sigma^2)``;
    * multiplicative: ``Delta = sum_j a_j g_j``, ``g_j ~ N(0, r)``.

    Symbols: ``delta``, ``sigma``, ``r`` (positive), ``a1..an`` and ``beta1..betan`` (real).
    Oracle for chapter 2, proposition ``prop-variance``.
    """
    n = _validate.order(n_features, "n_features", high=8, low=1)
    a = sp.symbols(f"a1:{n + 1}", real=True)
    b = sp.symbols(f"beta1:{n + 1}", real=True)
    perturbations = {
        "dropout": sum(a[j] * _dropout_unit(f"m{j}") for j in range(n)),
        "additive": sum(b[j] * ss.Normal(f"e{j}", 0, SIGMA) for j in range(n)),
        "multiplicative": sum(a[j] * ss.Normal(f"g{j}", 0, sp.sqrt(R_VAR)) for j in range(n)),
    }
    moments = {}
    for name, delta_ in perturbations.items():
        mean = sp.simplify(ss.E(delta_))
        variance = sp.factor(sp.simplify(ss.E(sp.expand(delta_**2)) - mean**2))
        moments[name] = (mean, variance)
    return moments


def dropout_unit_moments(max_order: int = 4) -> list[sp.Expr]:
    """``[E u, E u^2, ..., E u^max_order]`` for the dropout unit ``u = m / (1 - delta) - 1``,
    ``m ~ Bernoulli(1 - delta)``, by ``sympy.stats`` (chapter 2, theorem ``thm-dropout-sign``)."""
    max_order = _validate.order(max_order, "max_order", high=12, low=1)
    u = _dropout_unit("m")
    return [sp.simplify(ss.E(u**k)) for k in range(1, max_order + 1)]


def dropout_unit_mgf() -> sp.Expr:
    """``E e^{x u}`` for the dropout unit ``u`` (symbol ``x`` real), by ``sympy.stats``
    (chapter 2, theorem ``thm-poisson``)."""
    return sp.simplify(ss.E(sp.exp(X_POINT * _dropout_unit("m"))))


def normal_mgf() -> sp.Expr:
    """``E e^{N(0, s^2)}`` (symbol ``s`` positive), by ``sympy.stats`` integration of the
    density (chapter 2, theorem ``thm-poisson``)."""
    return sp.simplify(ss.E(sp.exp(ss.Normal("n", 0, S_SCALE))).rewrite(sp.erf))


def central_hessian_diagonal(
    f: Callable[[NDArray[np.float64]], float], x: ArrayLike, step: float
) -> NDArray[np.float64]:
    """Diagonal of the Hessian of a scalar function by central second differences:
    ``(f(x + h e_j) - 2 f(x) + f(x - h e_j)) / h^2``, error ``O(h^2)`` plus rounding of order
    ``eps |f| / h^2`` (chapter 2, theorem ``thm-adaptive``: the oracle for the Fisher diagonal)."""
    x = _validate.finite_array(x, "x", ndim=1)
    if not np.isfinite(step) or step <= 0:
        raise ValueError(f"step must be a finite real number > 0, got {step!r}")
    centre = f(x)
    return np.array([(f(x + step * e) - 2 * centre + f(x - step * e)) / step**2 for e in np.eye(x.size)])


def mp_gaussian_penalty(z: float, s: float, dps: int = 50) -> mpmath.mpf:
    """``E A(z + s xi) - A(z)``, ``xi ~ N(0, 1)``, ``A(w) = log(1 + e^w)``, by ``mpmath.quad`` at
    ``dps`` digits, taken directly at ``z`` (no symmetry trick: for confident examples the
    cancellation between the two terms is absorbed by the working precision, so ``dps`` must
    exceed ``|z| / log(10)`` by the digits wanted). Chapter 2, theorem ``thm-confident-limits``."""
    z, s = float(z), _validate.scale(s, "s")
    if not np.isfinite(z):
        raise ValueError(f"z must be a finite real number, got {z!r}")
    dps = _validate.order(dps, "dps", high=1000)
    if dps < 15:
        raise ValueError(f"dps must be an integer in [15, 1000], got {dps}")
    with mpmath.workdps(dps):
        softplus = lambda w: mpmath.log1p(mpmath.exp(w))  # noqa: E731
        density = lambda x: mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
        base = softplus(mpmath.mpf(z))
        integrand = lambda x: (softplus(z + s * x) - base) * density(x)  # noqa: E731
        return mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf])

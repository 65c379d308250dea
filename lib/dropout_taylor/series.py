"""The Taylor series of softplus, its radius of convergence, and the expected series of the
quadratic approximation (chapter 3, "The Taylor series diverges").

The approximation of Wager, Wang & Liang (2013) expands ``A(z + Delta)`` around the clean score
``z`` and takes expectations term by term:

    E A(z + Delta) = sum_n a_n(z) E[Delta^n],        a_n(z) = A^{(n)}(z) / n!,

then keeps ``n <= 2``. This module computes the pieces of that series exactly:

* :func:`taylor_coefficients`: ``a_n(z0)`` from the closed-form derivatives of
  :mod:`~dropout_taylor.logpartition`, in mpmath (float64 loses the high orders to cancellation);
* :func:`pole_sum_coefficient`, :func:`leading_pole_coefficients`: the same coefficients from the
  poles of the sigmoid (proposition ``prop-coefficients``), which explain why the ratio test
  oscillates;
* :func:`root_test`, :func:`ratio_test`, :func:`partial_sums`: estimates of the radius
  ``rho(z0) = sqrt(z0^2 + pi^2)`` (theorem ``thm-radius``) and the partial sums at one point;
* :func:`expected_series`: partial sums of the expected series on exact atoms (theorem
  ``thm-expected-series``), in mpmath since the terms reach 1e30 and beyond;
* :func:`dropout_convergence`, :func:`critical_rate`, :func:`dropout_atoms_mp`: the exact
  convergence condition for dropout (theorem ``thm-dropout-condition``);
* :func:`gaussian_moment`, :func:`gaussian_expectation_mp`, :func:`gaussian_truncation_errors`,
  :func:`optimal_truncation`, :func:`softplus_derivative_sup`: Gaussian noise, the divergence
  of its expected series (theorem ``thm-gaussian-diverges``) and its optimal truncation
  (proposition ``prop-asymptotic``);
* :func:`plot_complex_plane`, :func:`plot_dropout_series`: the figures and the explorer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import mpmath
import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate
from .logpartition import softplus_derivative_coefficients, softplus_derivative_mp, softplus_radius
from .noise import Dropout, enumerate_masks

#: Highest order accepted by the mpmath routines (the cached integer coefficients of
#: ``softplus_derivative_coefficients`` cost O(n^3) to build up to n).
MAX_ORDER = 400


def _dps(dps: int) -> int:
    """Working precision in decimal digits: an integer in [15, 2000]."""
    dps = _validate.order(dps, "dps", high=2000)
    if dps < 15:
        raise ValueError(f"dps must be an integer in [15, 2000], got {dps}")
    return dps


def _real(value: Any, name: str) -> float:
    arr = _validate.finite_array(value, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single real number, got shape {arr.shape}")
    return float(arr)


# --------------------------------------------------------------------------------------------
# Taylor coefficients of softplus and the radius of convergence


def taylor_coefficients(z0: float, n_max: int, dps: int = 30) -> list[mpmath.mpf]:
    """Taylor coefficients ``a_n = A^{(n)}(z0) / n!`` of softplus at real ``z0``, n = 0..n_max.

    ``A^{(n)}`` is the closed-form polynomial in ``sigma(z0)`` and ``1 - sigma(z0)`` of
    :func:`~dropout_taylor.logpartition.softplus_derivative_coefficients`, evaluated by
    :func:`~dropout_taylor.logpartition.softplus_derivative_mp` at ``dps`` significant digits
    (the working precision is raised by n internally). mpmath is needed: the float64 version
    :func:`~dropout_taylor.logpartition.softplus_derivative` loses about ``n log10(pi/2)``
    digits to cancellation near z0 = 0 (measured: relative error about 1e-11 at n = 40, 1e-1
    at n = 80, above 100 % at n = 100), while the root test of theorem ``thm-radius``
    (chapter 3) needs n in the hundreds. Orders up to ``MAX_ORDER``; results are cached.
    """
    z0 = _real(z0, "z0")
    n_max = _validate.order(n_max, "n_max", high=MAX_ORDER)
    return list(_taylor_coefficients(z0, n_max, _dps(dps)))


@lru_cache(maxsize=64)
def _taylor_coefficients(z0: float, n_max: int, dps: int) -> tuple[mpmath.mpf, ...]:
    # The same polynomial as softplus_derivative_mp, with the powers of s = sigma(z0) and
    # t = sigma(-z0) computed once for all orders; the working precision dps + n_max + 10
    # absorbs the cancellation between terms of opposite sign (about n log10(pi/2) digits).
    with mpmath.workdps(dps + n_max + 10):
        x = mpmath.mpf(z0)
        s, t = 1 / (1 + mpmath.exp(-x)), 1 / (1 + mpmath.exp(x))
        s_pow, t_pow = [mpmath.mpf(1)], [mpmath.mpf(1)]
        for _ in range(n_max):
            s_pow.append(s_pow[-1] * s)
            t_pow.append(t_pow[-1] * t)
        out = [softplus_derivative_mp(z0, 0, dps=dps)]
        factorial = mpmath.mpf(1)
        for n in range(1, n_max + 1):
            factorial *= n
            c = softplus_derivative_coefficients(n)
            out.append(mpmath.fsum(ck * s_pow[k] * t_pow[n - k] for k, ck in enumerate(c) if ck) / factorial)
    with mpmath.workdps(dps):
        return tuple(+v for v in out)


def pole_sum_coefficient(z0: float, n: int, dps: int = 30) -> mpmath.mpf:
    """``a_n(z0)`` from the poles of the sigmoid, for ``n >= 2`` (proposition ``prop-coefficients``).

    The partial fractions ``sigma(z) = 1/2 + sum_{k >= 0} [1/(z - i c_k) + 1/(z + i c_k)]``,
    ``c_k = (2k + 1) pi``, give

        a_n(z0) = (2 (-1)^{n-1} / n) sum_{k >= 0} Re[(z0 - i c_k)^{-n}],

    an absolutely convergent sum for n >= 2 (summed by ``mpmath.nsum``). Independent of the
    derivative polynomials, so it checks them (chapter 3).
    """
    z0 = _real(z0, "z0")
    n = _validate.order(n, "n", high=MAX_ORDER)
    if n < 2:
        raise ValueError(f"n must be an integer in [2, {MAX_ORDER}] for the pole sum, got {n}")
    dps = _dps(dps)
    with mpmath.workdps(dps + 10):
        total = mpmath.nsum(
            lambda k: mpmath.re((z0 - 1j * (2 * k + 1) * mpmath.pi) ** (-n)), [0, mpmath.inf]
        )
        result = 2 * (-1) ** (n - 1) * total / n
    with mpmath.workdps(dps):
        return +result


def leading_pole_coefficients(z0: float, n_max: int) -> NDArray[np.float64]:
    """The contribution of the nearest pair of poles ``+-i pi`` to ``a_n(z0)``, n = 0..n_max:

        a_n(z0) ~ (2 (-1)^{n-1} / n) rho^{-n} cos(n phi),    phi = atan2(pi, z0),

    with relative error ``O((rho / rho_1)^n)``, ``rho_1 = sqrt(z0^2 + 9 pi^2)``
    (proposition ``prop-coefficients``). Entries 0 and 1 are set to NaN (the formula holds for
    n >= 2). Float64; beware of underflow of ``rho^{-n}`` only beyond n of several hundred.
    """
    z0 = _real(z0, "z0")
    n_max = _validate.order(n_max, "n_max", high=MAX_ORDER)
    n = np.arange(n_max + 1, dtype=float)
    rho = float(softplus_radius(z0))
    phi = math.atan2(math.pi, z0)
    with np.errstate(divide="ignore"):
        out = 2.0 * (-1.0) ** (n - 1) / n * rho ** (-n) * np.cos(n * phi)
    out[: min(2, n_max + 1)] = np.nan
    return out


def root_test(coefficients: list[Any]) -> NDArray[np.float64]:
    """Root-test estimates ``|a_n|^{-1/n}`` of the radius, n = 0..N (NaN where a_n = 0 or n = 0).

    Cauchy-Hadamard: the radius is ``liminf |a_n|^{-1/n}``. Computed from mpmath values through
    logarithms, so no underflow (chapter 3, theorem ``thm-radius``).
    """
    out = np.full(len(coefficients), np.nan)
    for n, a in enumerate(coefficients):
        if n > 0 and a != 0:
            out[n] = math.exp(-float(mpmath.log(abs(mpmath.mpf(a)))) / n)
    return out


def ratio_test(coefficients: list[Any]) -> NDArray[np.float64]:
    """Ratio estimates ``|a_n / a_{n+1}|`` of the radius, n = 0..N-1 (NaN where undefined).

    For softplus at real z0 these oscillate and do not converge: the nearest singularities are
    a complex-conjugate pair, so ``a_n ~ rho^{-n} cos(n phi) / n`` (chapter 3).
    """
    out = np.full(max(len(coefficients) - 1, 0), np.nan)
    for n in range(len(out)):
        a, b = mpmath.mpf(coefficients[n]), mpmath.mpf(coefficients[n + 1])
        if a != 0 and b != 0:
            out[n] = float(abs(a / b))
    return out


def partial_sums(coefficients: list[Any], h: float, dps: int = 30) -> list[mpmath.mpf]:
    """Partial sums ``S_N(h) = sum_{n <= N} a_n h^n``, N = 0..len-1, in mpmath (chapter 3)."""
    h = _real(h, "h")
    dps = _dps(dps)
    out, total = [], mpmath.mpf(0)
    with mpmath.workdps(dps):
        power = mpmath.mpf(1)
        for a in coefficients:
            total += a * power
            power *= h
            out.append(+total)
    return out


def softplus_mp(w: Any, dps: int = 30) -> mpmath.mpf:
    """Softplus ``log(1 + e^w)`` of a real number in mpmath, without overflow."""
    with mpmath.workdps(dps):
        w = mpmath.mpf(w)
        return +(mpmath.log1p(mpmath.exp(w)) if w < 0 else w + mpmath.log1p(mpmath.exp(-w)))


def nearest_singularity(z0: float, dps: int = 30) -> mpmath.mpc:
    """The zero of ``1 + e^w`` nearest to real ``z0``, found by ``mpmath.findroot`` from a
    starting point off the imaginary axis (an oracle for ``rho(z0)``; it should be ``i pi``)."""
    _real(z0, "z0")
    with mpmath.workdps(dps):
        return mpmath.findroot(lambda w: 1 + mpmath.exp(w), mpmath.mpc(0.4, 2.7))


# --------------------------------------------------------------------------------------------
# The expected series on finitely many atoms


@dataclass(frozen=True)
class ExpectedSeries:
    """Partial sums of ``sum_n a_n(z) E[Delta^n]`` on exact atoms (theorem ``thm-expected-series``).

    ``terms[n] = a_n E[Delta^n]``, ``sums[N] = sum_{n <= N} terms[n]``, ``exact = E A(z + Delta)``
    (all mpmath); ``rho = rho(z)``, ``reach = max |atom|`` (atoms of probability > 0).
    """

    z: float
    terms: list[mpmath.mpf]
    sums: list[mpmath.mpf]
    exact: mpmath.mpf
    rho: float
    reach: float

    @property
    def errors(self) -> NDArray[np.float64]:
        """``|S_N - E A(z + Delta)|`` as floats (huge values stay finite up to 1e308)."""
        return np.array([float(abs(s - self.exact)) for s in self.sums])

    @property
    def abs_terms(self) -> NDArray[np.float64]:
        return np.array([float(abs(t)) for t in self.terms])

    def growth_rate(self, start: int | None = None) -> float:
        """Estimate of ``limsup |t_n|^{1/n}`` (theorem ``thm-expected-series``: it equals
        ``reach / rho``): the largest ``|n t_n / 2|^{1/n}`` over the second half of the terms;
        the factor ``n / 2`` removes the ``2 / n`` of the coefficient asymptotics."""
        n_max = len(self.terms) - 1
        start = n_max // 2 if start is None else start
        best = 0.0
        for n in range(max(start, 2), n_max + 1):
            t = abs(self.terms[n])
            if t != 0:
                best = max(best, math.exp(float(mpmath.log(t * n / 2)) / n))
        return best


def moments_mp(atoms: Any, probabilities: Any, n_max: int, dps: int = 30) -> list[mpmath.mpf]:
    """``E[Delta^n] = sum_j p_j d_j^n``, n = 0..n_max, in mpmath (atoms and weights as given)."""
    n_max = _validate.order(n_max, "n_max", high=MAX_ORDER)
    with mpmath.workdps(_dps(dps)):
        d = [mpmath.mpf(v) for v in atoms]
        p = [mpmath.mpf(v) for v in probabilities]
        powers = [mpmath.mpf(1)] * len(d)
        out = []
        for _ in range(n_max + 1):
            out.append(mpmath.fsum(pj * dj for pj, dj in zip(p, powers, strict=True)))
            powers = [x * y for x, y in zip(powers, d, strict=True)]
    return out


def expected_series(
    z: float, atoms: Any, probabilities: Any, n_max: int = 80, dps: int = 30
) -> ExpectedSeries:
    """The expected Taylor series of softplus at ``z`` for a perturbation with finitely many atoms.

    ``atoms`` (values ``d_j`` of Delta) and ``probabilities`` (``p_j``, non-negative, summing to
    1) may be floats or mpmath numbers; they are used exactly as given, at ``dps`` digits.
    Returns the terms ``a_n(z) E[Delta^n]``, the partial sums for n = 0..n_max and the exact
    ``E A(z + Delta) = sum_j p_j A(z + d_j)`` (theorem ``thm-expected-series``, chapter 3).
    Atoms of probability zero are ignored for ``reach``.
    """
    z = _real(z, "z")
    dps = _dps(dps)
    with mpmath.workdps(dps):
        d = [mpmath.mpf(v) for v in atoms]
        p = [mpmath.mpf(v) for v in probabilities]
    if len(d) != len(p) or not d:
        raise ValueError("atoms and probabilities must be non-empty and of the same length")
    if any(q < 0 for q in p) or abs(mpmath.fsum(p) - 1) > mpmath.mpf(10) ** (-dps // 2):
        raise ValueError("probabilities must be >= 0 and sum to 1")
    a = taylor_coefficients(z, n_max, dps=dps)
    m = moments_mp(d, p, n_max, dps=dps)
    with mpmath.workdps(dps):
        terms = [ai * mi for ai, mi in zip(a, m, strict=True)]
        sums, total = [], mpmath.mpf(0)
        for t in terms:
            total += t
            sums.append(+total)
        exact = mpmath.fsum(pj * softplus_mp(z + dj, dps) for pj, dj in zip(p, d, strict=True))
    reach = float(max(abs(dj) for dj, pj in zip(d, p, strict=True) if pj > 0))
    return ExpectedSeries(z, terms, sums, exact, float(softplus_radius(z)), reach)


# --------------------------------------------------------------------------------------------
# Dropout


def dropout_atoms_mp(
    a: ArrayLike, delta: float, dps: int = 30
) -> tuple[list[mpmath.mpf], list[mpmath.mpf]]:
    """All ``2^d`` atoms ``Delta(m) = sum_j a_j u_j`` (``u_j = r`` kept, ``-1`` dropped) of one
    example with contributions ``a`` (length d <= 20), and their probabilities, in mpmath.

    ``r = delta / (1 - delta)`` is formed in mpmath from the float ``delta`` (exact for
    delta = 1/2), so the atoms are exact sums of the given contributions. Masks are in the
    order of :func:`~dropout_taylor.noise.enumerate_masks` (chapter 3, worked examples).
    """
    a = _validate.finite_array(a, "a", ndim=1)
    delta = _validate.rate(delta)
    masks = enumerate_masks(a.shape[0])
    with mpmath.workdps(_dps(dps)):
        dl = mpmath.mpf(delta)
        r = dl / (1 - dl)
        av = [mpmath.mpf(float(v)) for v in a]
        atoms, probs = [], []
        for mask in masks:
            atoms.append(mpmath.fsum(aj * (r if keep else -1) for aj, keep in zip(av, mask, strict=True)))
            kept = int(mask.sum())
            probs.append((1 - dl) ** kept * dl ** (len(av) - kept))
    return atoms, probs


@dataclass(frozen=True)
class DropoutConvergence:
    """The convergence condition of theorem ``thm-dropout-condition`` for each example.

    ``reach = max |Delta_i| = max(r S+ + S-, S+ + r S-)`` over masks, ``rho = rho(z_i)``;
    ``converges`` is ``reach < rho`` (absolute convergence), ``boundary`` is
    ``reach == rho`` to rounding (conditional convergence), otherwise the terms are unbounded.
    """

    z: NDArray[np.float64]
    reach: NDArray[np.float64]
    rho: NDArray[np.float64]

    @property
    def margin(self) -> NDArray[np.float64]:
        """``reach / rho``: below 1 the expected series converges absolutely, above 1 it diverges."""
        return self.reach / self.rho

    @property
    def boundary(self) -> NDArray[np.bool_]:
        return np.isclose(self.reach, self.rho, rtol=1e-12, atol=0.0)

    @property
    def converges(self) -> NDArray[np.bool_]:
        return (self.reach < self.rho) & ~self.boundary

    @property
    def diverges(self) -> NDArray[np.bool_]:
        return (self.reach > self.rho) & ~self.boundary


def dropout_convergence(X: ArrayLike, beta: ArrayLike, noise: Dropout) -> DropoutConvergence:
    """Theorem ``thm-dropout-condition`` (chapter 3) for every example of ``X``.

    Uses the closed-form extremes of :meth:`~dropout_taylor.noise.Dropout.extreme_perturbations`
    (``min Delta = -(S+ + r S-)``, ``max Delta = r S+ + S-``) and
    :func:`~dropout_taylor.logpartition.softplus_radius` at the clean score ``z_i`` (which
    includes any features left out of ``noise.noisy``). The expected series converges
    absolutely for every mask iff ``max(r S+ + S-, S+ + r S-) < sqrt(z_i^2 + pi^2)``.
    """
    if not isinstance(noise, Dropout):
        raise ValueError(f"noise must be a Dropout model, got {type(noise).__name__}")
    low, high = noise.extreme_perturbations(X, beta)
    z = noise.scores(X, beta)
    return DropoutConvergence(z, np.maximum(-low, high), softplus_radius(z))


def critical_rate(a: ArrayLike, z: float | None = None) -> float:
    """The largest dropout rate below which the expected series converges (chapter 3).

    ``M(r) = max(r S+ + S-, S+ + r S-)`` increases with ``r = delta / (1 - delta)`` from
    ``M(0+) = max(S+, S-)``; the series converges absolutely iff ``M(r) < rho(z)``, i.e. iff
    ``delta < delta*`` with ``r* = min((rho - S-) / S+, (rho - S+) / S-)``. Returns
    ``delta* = r* / (1 + r*)`` (1.0 if every rate converges, i.e. a = 0; 0.0 if no rate gives
    absolute convergence: when ``max(S+, S-) >= rho(z)``, however small delta > 0; corollary
    ``cor-support``). ``z`` defaults to ``S+ - S-``
    (every feature noisy).
    """
    a = _validate.finite_array(a, "a", ndim=1)
    s_plus, s_minus = float(np.clip(a, 0, None).sum()), float(np.clip(-a, 0, None).sum())
    z = s_plus - s_minus if z is None else _real(z, "z")
    rho = float(softplus_radius(z))
    if max(s_plus, s_minus) >= rho:
        return 0.0
    bounds = [(rho - s_minus) / s_plus if s_plus > 0 else math.inf]
    bounds.append((rho - s_plus) / s_minus if s_minus > 0 else math.inf)
    r_star = min(bounds)
    return 1.0 if math.isinf(r_star) else r_star / (1.0 + r_star)


# --------------------------------------------------------------------------------------------
# Gaussian noise


def gaussian_moment(n: int, s: float, dps: int = 30) -> mpmath.mpf:
    """``E[Delta^n]`` for ``Delta ~ N(0, s^2)``: 0 for odd n, ``(n - 1)!! s^n`` for even n."""
    n = _validate.order(n, "n", high=10 * MAX_ORDER)
    s = _validate.scale(s, "s")
    with mpmath.workdps(_dps(dps)):
        if n % 2:
            return mpmath.mpf(0)
        return mpmath.fac2(n - 1) * mpmath.mpf(s) ** n if n else mpmath.mpf(1)


def gaussian_expectation_mp(z0: float, s: float, dps: int = 30) -> mpmath.mpf:
    """``E A(z0 + s xi)``, ``xi ~ N(0, 1)``, by ``mpmath.quad`` at ``dps`` digits (chapter 3).

    The exact value the truncations of the divergent expected series are compared with.
    """
    z0 = _real(z0, "z0")
    s = _validate.scale(s, "s")
    dps = _dps(dps)
    with mpmath.workdps(dps + 10):
        if s == 0:
            return softplus_mp(z0, dps)
        f = lambda x: softplus_mp(z0 + s * x, dps + 10) * mpmath.npdf(x)  # noqa: E731
        knots = [-mpmath.inf, -12, -6, -3, 0, 3, 6, 12, mpmath.inf]
        value = mpmath.quad(f, knots)
    with mpmath.workdps(dps):
        return +value


def gaussian_truncations(z0: float, s: float, k_max: int, dps: int = 30) -> list[mpmath.mpf]:
    """``T_{2K} = sum_{k <= K} a_{2k}(z0) (2k - 1)!! s^{2k}``, K = 0..k_max (odd moments vanish)."""
    k_max = _validate.order(k_max, "k_max", high=MAX_ORDER // 2)
    a = taylor_coefficients(z0, 2 * k_max, dps=dps)
    out, total = [], mpmath.mpf(0)
    with mpmath.workdps(dps):
        for k in range(k_max + 1):
            total += a[2 * k] * gaussian_moment(2 * k, s, dps)
            out.append(+total)
    return out


def gaussian_truncation_errors(z0: float, s: float, k_max: int, dps: int = 30) -> NDArray[np.float64]:
    """``|E A(z0 + Delta) - T_{2K}|`` for ``Delta ~ N(0, s^2)``, K = 0..k_max (chapter 3,
    proposition ``prop-asymptotic``): first decreasing, then growing without bound."""
    exact = gaussian_expectation_mp(z0, s, dps)
    return np.array([float(abs(t - exact)) for t in gaussian_truncations(z0, s, k_max, dps)])


def optimal_truncation(z0: float, s: float, k_max: int, dps: int = 30) -> tuple[int, float]:
    """The order ``2 K*`` whose truncation error is smallest among K = 0..k_max, and that error.

    Heuristic of chapter 3: the terms are smallest near ``2K ~ (rho / s)^2`` and the smallest
    error is of order ``exp(-rho^2 / (2 s^2))``; ``k_max`` must go beyond ``(rho / s)^2 / 2``.
    """
    errors = gaussian_truncation_errors(z0, s, k_max, dps)
    k = int(np.argmin(errors))
    return 2 * k, float(errors[k])


@cache
def softplus_derivative_sup(n: int) -> float:
    """``sup_{x real} |A^{(n)}(x)|``, n = 1..40 (chapter 3, proposition ``prop-asymptotic``).

    ``A^{(n)}`` is the polynomial ``q(p) = sum_k c_k p^k (1-p)^{n-k}`` of ``p = sigma(x)`` in
    (0, 1) (:func:`~dropout_taylor.logpartition.softplus_derivative_coefficients`), so the sup
    is the maximum of ``|q|`` on [0, 1]: located on a grid of 4001 points, then refined by
    bounded scalar minimisation around the three best grid points. Float64: the cancellation
    between terms costs about ``n log10(pi/2)`` digits, below 1e-8 relative for n <= 40.
    Known values: 1/4 for n = 2, 1/(6 sqrt 3) for n = 3, 1/8 for n = 4.
    """
    from scipy.optimize import minimize_scalar

    n = _validate.order(n, "n", high=40)
    if n < 1:
        raise ValueError("n must be an integer in [1, 40], got 0")
    c = np.array([float(v) for v in softplus_derivative_coefficients(n)])
    k = np.arange(n + 1)

    def q(p: float | NDArray[np.float64]) -> NDArray[np.float64]:
        p = np.asarray(p, dtype=float)[..., None]
        return np.abs(np.sum(c * p**k * (1 - p) ** (n - k), axis=-1))

    grid = np.linspace(0.0, 1.0, 4001)
    values = q(grid)
    best = float(values.max())
    step = grid[1] - grid[0]
    for i in np.argsort(values)[-3:]:
        lo, hi = max(grid[i] - step, 0.0), min(grid[i] + step, 1.0)
        res = minimize_scalar(
            lambda p: -float(q(p)), bounds=(lo, hi), method="bounded", options={"xatol": 1e-13}
        )
        best = max(best, -float(res.fun))
    return best


def asymptotic_error_bound(k: int, s: float) -> float:
    """Bound on ``|E A(z0 + Delta) - T_{2K}|`` for ``Delta ~ N(0, s^2)`` (prop. ``prop-asymptotic``):

        sup|A^{(2K+2)}| / (2K+2)! * (2K+1)!! * s^{2K+2},

    from Taylor's theorem with the Lagrange remainder; valid for every z0."""
    k = _validate.order(k, "k", high=19)
    s = _validate.scale(s, "s")
    n = 2 * k + 2
    return float(softplus_derivative_sup(n) / mpmath.factorial(n) * mpmath.fac2(n - 1) * mpmath.mpf(s) ** n)


# --------------------------------------------------------------------------------------------
# Figures


def plot_complex_plane(
    ax: Any,
    z0: float,
    atoms: ArrayLike | None = None,
    probabilities: ArrayLike | None = None,
    xlim: tuple[float, float] = (-10.0, 14.0),
    ylim: tuple[float, float] = (-11.0, 11.0),
    background: bool = True,
) -> Any:
    """Draw softplus in the complex plane around real ``z0`` on a matplotlib axis (chapter 3).

    Background: the phase ``arg(1 + e^w)`` on a cyclic colour map (a phase portrait: all
    colours meet at the zeros ``i (2k+1) pi`` of ``1 + e^w``, where softplus has its branch
    points; left of the imaginary axis ``1 + e^w`` is close to 1 and the colour is flat).
    Crosses mark those zeros; the circle is the disc of convergence ``|w - z0| < rho(z0)``;
    if given, the points ``z0 + Delta`` for the atoms of a perturbation are drawn filled inside
    the disc and open outside, with area growing with the probability. Returns the image
    (for a colour bar) or None.
    """
    from .plotting import PALETTE

    z0 = _real(z0, "z0")
    rho = float(softplus_radius(z0))
    image = None
    if background:
        x = np.linspace(*xlim, 521)
        y = np.linspace(*ylim, 481)
        w = x[None, :] + 1j * y[:, None]
        pos = w.real > 0
        # arg(1 + e^w) without overflow: for Re w > 0 it is Im w + arg(1 + e^{-w}) (mod 2 pi).
        phase = np.angle(1 + np.exp(np.where(pos, -w, w))) + np.where(pos, w.imag, 0.0)
        phase = np.angle(np.exp(1j * phase))
        image = ax.imshow(phase, extent=(*xlim, *ylim), origin="lower", cmap="twilight",
                          vmin=-np.pi, vmax=np.pi, aspect="equal", alpha=0.75, interpolation="bilinear")
    ks = np.arange(-8, 8)
    poles = (2 * ks + 1) * np.pi
    poles = poles[(poles > ylim[0]) & (poles < ylim[1])]
    theta = np.linspace(0, 2 * np.pi, 400)
    ax.fill(z0 + rho * np.cos(theta), rho * np.sin(theta), color=PALETTE[2], alpha=0.25, lw=0)
    ax.plot(z0 + rho * np.cos(theta), rho * np.sin(theta), color=PALETTE[5], lw=2.5,
            label=rf"disc of convergence, radius $\rho({z0:g}) = {rho:.3g}$")
    ax.plot([z0, 0], [0, np.pi], color=PALETTE[5], lw=1.2, ls="--")
    ax.plot(np.zeros_like(poles), poles, "X", color=PALETTE[6], mec="white", ms=12, mew=1.2,
            zorder=6, label=r"singularities $w = i(2k+1)\pi$")
    ax.plot([z0], [0], "o", color=PALETTE[0], ms=6, zorder=6, label=f"expansion point $z_0 = {z0:g}$")
    if atoms is not None:
        d = _validate.finite_array(atoms, "atoms", ndim=1)
        p = np.full(d.shape, 1.0 / d.size) if probabilities is None else _validate.finite_array(
            probabilities, "probabilities", ndim=1
        )
        inside = np.abs(d) < rho
        size = 40 + 160 * p / p.max()
        ax.scatter(z0 + d[inside], 0 * d[inside], s=size[inside], color=PALETTE[3], edgecolor="k",
                   zorder=7, label=r"$z_0 + \Delta$, atom inside the disc")
        ax.scatter(z0 + d[~inside], 0 * d[~inside], s=size[~inside], facecolor="white",
                   edgecolor=PALETTE[6], lw=2.2, zorder=7, label=r"$z_0 + \Delta$, atom outside")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(r"$\mathrm{Re}\, w$ (logit units)")
    ax.set_ylabel(r"$\mathrm{Im}\, w$ (logit units)")
    return image


def plot_dropout_series(
    a: ArrayLike, delta: float, n_max: int = 60, axes: Any = None, dps: int = 30
) -> tuple[Any, ExpectedSeries]:
    """The explorer's figure (chapter 3): dropout with contributions ``a`` (all features noisy,
    so ``z = sum_j a_j``) at rate ``delta``.

    Left: the atoms ``z + Delta`` against the disc of convergence in the complex plane. Right:
    the error ``|S_N - E A(z + Delta)|`` of the partial sums of the expected series and the
    size of its terms, on a log scale. Returns the figure and the :class:`ExpectedSeries`.
    """
    import matplotlib.pyplot as plt

    from .plotting import PALETTE

    a = _validate.finite_array(a, "a", ndim=1)
    delta = _validate.rate(delta)
    z = float(np.sum(a))
    atoms, probs = dropout_atoms_mp(a, delta, dps)
    series = expected_series(z, atoms, probs, n_max=n_max, dps=dps)
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1.05, 1]})
    else:
        fig = axes[0].figure
    d = np.array([float(v) for v in atoms])
    p = np.array([float(v) for v in probs])
    span = max(series.rho, float(np.max(np.abs(d)))) * 1.15 + 1
    plot_complex_plane(axes[0], z, d[p > 0], p[p > 0], xlim=(z - span, z + span),
                       ylim=(-span, span), background=True)
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8)
    verdict = "converges" if series.reach < series.rho else (
        "diverges" if series.reach > series.rho else "boundary")
    axes[0].set_title(rf"max$|\Delta|$ = {series.reach:.3g}, $\rho(z)$ = {series.rho:.3g}: {verdict}")
    n = np.arange(n_max + 1)
    floor = 10.0 ** (-dps + 3)  # below this the mpmath values are rounding noise: not drawn
    err = np.where(series.errors > floor, series.errors, np.nan)
    terms = np.where(series.abs_terms > floor, series.abs_terms, np.nan)
    axes[1].semilogy(n, err, color=PALETTE[5], lw=2, label=r"error $|S_N - \mathbb{E}A(z+\Delta)|$")
    axes[1].semilogy(n, terms, ".", color=PALETTE[1], ms=5,
                     label=r"term $|a_n(z)\,\mathbb{E}\Delta^n|$ (nonzero)")
    axes[1].axhline(float(abs(series.exact)), color=PALETTE[0], lw=1, ls=":",
                    label=r"$\mathbb{E}A(z+\Delta)$ itself")
    axes[1].set_xlabel("truncation order $N$")
    axes[1].set_ylabel("absolute value (loss units)")
    a_text = ", ".join(f"{v:g}" for v in a)
    axes[1].set_title(rf"$a = ({a_text})$, $\delta = {delta:g}$, $z = {z:g}$")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig, series

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
* :func:`scaled_coefficient_errors`, :func:`leading_pole_error_bound`,
  :func:`point_partial_sum_errors`, :func:`boundary_atoms`, :func:`boundary_tail_constant`,
  :func:`random_dropout_problem`, :func:`scaled_dropout_problem`, :func:`support_curve`,
  :func:`gaussian_term_ratios`, :func:`gaussian_truncation_table`: the computed side of the
  chapter's checks and figures, which the chapter compares with independent oracles.

The figures are drawn by :mod:`~dropout_taylor.plots_divergence`.
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


# --------------------------------------------------------------------------------------------
# Taylor coefficients of softplus and the radius of convergence


def taylor_coefficients(z0: float, n_max: int, dps: int = 30) -> list[mpmath.mpf]:
    """Taylor coefficients ``a_n = A^{(n)}(z0) / n!`` of softplus at real ``z0``, n = 0..n_max.

    ``A^{(n)}`` is the closed-form polynomial in ``sigma(z0)`` and ``1 - sigma(z0)`` of
    :func:`~dropout_taylor.logpartition.softplus_derivative_coefficients`, evaluated by
    :func:`~dropout_taylor.logpartition.softplus_derivative_mp` at ``dps`` significant digits
    (the working precision is raised by n internally). mpmath is needed: the float64 version
    :func:`~dropout_taylor.logpartition.softplus_derivative` loses about ``n log10(pi/2)``
    digits to cancellation near z0 = 0 (chapter 3 checks at z0 = 0.1 that its relative error
    stays within a factor 1000 below and 10 above ``eps (pi/2)^n``, n = 20..100: above 100 %
    at n = 100), while the root test of theorem ``thm-radius``
    (chapter 3) needs n in the hundreds. Orders up to ``MAX_ORDER``; results are cached.
    """
    z0 = _validate.real(z0, "z0")
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
    z0 = _validate.real(z0, "z0")
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
    z0 = _validate.real(z0, "z0")
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
    h = _validate.real(h, "h")
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
    _validate.real(z0, "z0")
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
    z = _validate.real(z, "z")
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
    z = s_plus - s_minus if z is None else _validate.real(z, "z")
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
    z0 = _validate.real(z0, "z0")
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

    n = _validate.order(n, "n", high=40, low=1)
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
# Building blocks of the chapter's checks (chapter 3): each returns the computed side of a
# comparison; the chapter compares it with an independent oracle.


def scaled_coefficient_errors(z0: float, reference: list[Any], dps: int = 40) -> NDArray[np.float64]:
    """``|a_n(z0) - reference_n| rho(z0)^n`` for n = 0..len(reference) - 1 (theorem ``thm-radius``).

    ``a_n`` comes from :func:`taylor_coefficients` at ``dps`` digits; ``reference`` is an
    independent list of Taylor coefficients (the chapter uses ``mpmath.taylor``). Scaling by
    ``rho^n`` makes every order count equally, since ``|a_n|`` is about ``rho^{-n}``.
    """
    z0 = _validate.real(z0, "z0")
    if len(reference) < 1:
        raise ValueError("reference must hold at least one coefficient, got an empty list")
    ours = taylor_coefficients(z0, len(reference) - 1, dps=dps)
    with mpmath.workdps(_dps(dps)):
        rho = mpmath.sqrt(mpmath.mpf(z0) ** 2 + mpmath.pi**2)
        pairs = enumerate(zip(ours, reference, strict=True))
        return np.array([float(abs(x - y) * rho**n) for n, (x, y) in pairs])


def leading_pole_error_bound(z0: float, n_max: int, slack: float = 1e-13) -> NDArray[np.float64]:
    """Bound on ``|a_n(z0) - leading_pole_coefficients(z0)[n]|``, n = 0..n_max (NaN for n < 2):

        (2 / n) [ 9 (pi^2 / 8 - 1) rho_1^{-n} + slack rho^{-n} ],    rho_1 = sqrt(z0^2 + 9 pi^2),

    the error term of proposition ``prop-coefficients`` plus ``slack`` times the size of the
    leading term, which absorbs the float64 rounding of :func:`leading_pole_coefficients`.
    """
    z0 = _validate.real(z0, "z0")
    n_max = _validate.order(n_max, "n_max", high=MAX_ORDER)
    if not 0.0 <= slack < 1.0:
        raise ValueError(f"slack must be in [0, 1), got {slack}")
    n = np.arange(n_max + 1, dtype=float)
    rho, rho1 = math.hypot(z0, math.pi), math.hypot(z0, 3 * math.pi)
    with np.errstate(divide="ignore"):
        out = 2 / n * (9 * (math.pi**2 / 8 - 1) * rho1**-n + slack * rho**-n)
    out[: min(2, n_max + 1)] = np.nan
    return out


def point_partial_sum_errors(z0: float, h: float, n_max: int, dps: int = 30) -> NDArray[np.float64]:
    """``|S_N(h) - A(z0 + h)|``, N = 0..n_max: the Taylor partial sums of softplus at ``z0``
    (:func:`partial_sums`) against softplus evaluated directly at ``z0 + h`` in mpmath
    (:func:`softplus_mp`, the same ``h`` added exactly). Theorem ``thm-radius``, figure
    ``fig-partial-sums-point``: they converge for ``|h| < rho(z0)`` and grow beyond it."""
    z0, h = _validate.real(z0, "z0"), _validate.real(h, "h")
    sums = partial_sums(taylor_coefficients(z0, n_max, dps=dps), h, dps=dps)
    with mpmath.workdps(_dps(dps)):
        exact = softplus_mp(mpmath.mpf(z0) + mpmath.mpf(h), dps)
        return np.array([float(abs(s - exact)) for s in sums])


def boundary_atoms(
    z: float, p_plus: float = 0.25, p_minus: float = 0.5, inner: float = 1.0, dps: int = 30
) -> tuple[list[mpmath.mpf], list[mpmath.mpf]]:
    """A perturbation on the boundary of theorem ``thm-expected-series`` (part 4): atoms
    ``+rho(z)``, ``-rho(z)`` (exact in mpmath) and ``inner`` with probabilities ``p_plus``,
    ``p_minus`` and ``1 - p_plus - p_minus``. ``|inner|`` must be below ``rho(z)``."""
    z = _validate.real(z, "z")
    inner = _validate.real(inner, "inner")
    if p_plus <= 0 or p_minus <= 0 or p_plus + p_minus > 1:
        raise ValueError(f"p_plus, p_minus must be > 0 with sum <= 1, got {p_plus}, {p_minus}")
    if abs(inner) >= float(softplus_radius(z)):
        raise ValueError(f"inner must satisfy |inner| < rho(z) = {float(softplus_radius(z)):.4g}")
    with mpmath.workdps(_dps(dps)):
        rho = mpmath.sqrt(mpmath.mpf(z) ** 2 + mpmath.pi**2)
        return [rho, -rho, mpmath.mpf(inner)], [mpmath.mpf(p_plus), mpmath.mpf(p_minus),
                                                1 - mpmath.mpf(p_plus) - mpmath.mpf(p_minus)]


def boundary_tail_constant(z: float, p_plus: float, p_minus: float) -> float:
    """Dirichlet constant ``C`` with ``|S_N - E A(z + Delta)| <~ C / (N + 1)`` on the boundary:

        C = 2 [ p_plus / sin((pi + phi) / 2) + p_minus / sin(phi / 2) ],   phi = atan2(pi, z),

    from the tails of ``sum_n cos(n theta) / n`` with ``theta_+ = phi + pi``, ``theta_- = phi``
    (theorem ``thm-expected-series``, part 4; the ``2 / n`` is that of the coefficients)."""
    z = _validate.real(z, "z")
    if p_plus < 0 or p_minus < 0:
        raise ValueError(f"p_plus and p_minus must be >= 0, got {p_plus}, {p_minus}")
    phi = math.atan2(math.pi, z)
    return 2 * (p_plus / math.sin((math.pi + phi) / 2) + p_minus / math.sin(phi / 2))


def random_dropout_problem(
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64], Dropout]:
    """A random test problem for theorem ``thm-dropout-condition``: four examples, 1 to 8 noisy
    features plus 0 to 2 clean ones, weights ``2 N(0, 1)``, a dropout rate in [0.01, 0.95].
    Returns ``(X, beta, noise)``; every draw comes from ``rng``."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    d, clean = int(rng.integers(1, 9)), int(rng.integers(0, 3))
    X, beta = rng.normal(size=(4, d + clean)), 2 * rng.normal(size=d + clean)
    noise = Dropout(float(rng.uniform(0.01, 0.95)), noisy=np.arange(d + clean) < d)
    return X, beta, noise


def scaled_dropout_problem(rng: np.random.Generator, target: float) -> tuple[NDArray[np.float64], float]:
    """Random contributions ``a`` (2 or 3 features, all noisy) and a rate ``delta`` in
    [0.3, 0.7] whose reach is ``target`` times the radius: ``M / rho(z) = target``.

    Reach and score both scale with ``c``: ``M(c a) = c M``, ``z = c sum a``, so
    ``c M = target sqrt(c^2 z^2 + pi^2)`` gives ``c = target pi / sqrt(M^2 - target^2 z^2)``
    (redrawn until the root exists). Used for the growth-rate check of theorem
    ``thm-dropout-condition`` on both sides of the boundary.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    target = _validate.scale(target, "target")
    if target == 0:
        raise ValueError("target must be > 0, got 0")
    while True:
        a, delta = rng.normal(size=int(rng.integers(2, 4))), float(rng.uniform(0.3, 0.7))
        reach = dropout_convergence(a[None, :], np.ones(a.size), Dropout(delta)).reach[0]
        if reach > target * abs(a.sum()):
            return a * target * math.pi / math.sqrt(reach**2 - (target * a.sum()) ** 2), delta


def support_curve(a: ArrayLike, deltas: ArrayLike) -> NDArray[np.float64]:
    """For one example with contributions ``a`` (all noisy) and each dropout rate in ``deltas``:
    columns reach ``max |Delta|``, standard deviation of ``Delta``, probability of the atoms
    with ``|Delta| > rho(z)``, and ``rho(z)``, ``z = sum_j a_j``. Reach and probability come
    from enumerating the ``2^d`` masks (:meth:`~dropout_taylor.noise.Dropout.atoms`), not from
    the closed form, so the chapter can check corollary ``cor-support`` against them (figure
    ``fig-support-variance``, chapter 3). At most 20 contributions."""
    a = _validate.finite_array(a, "a", ndim=1)
    deltas = _validate.finite_array(deltas, "deltas", ndim=1)
    X, beta = a[None, :], np.ones(a.size)
    rho = float(softplus_radius(float(np.sum(a))))
    rows = []
    for delta in deltas:
        noise = Dropout(float(delta))
        atoms, probs = noise.atoms(X, beta)
        sd = math.sqrt(noise.perturbation_variance(X, beta)[0])
        outside = probs[np.abs(atoms[0]) > rho].sum()
        rows.append((float(np.abs(atoms[0]).max()), sd, outside, rho))
    return np.array(rows)


def gaussian_term_ratios(
    z: float, s_over_rho: float, k_max: int, dps: int = 30
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The even terms ``t_k = |a_{2k}(z)| (2k - 1)!! s^{2k}`` of the Gaussian expected series,
    k = 1..k_max, with ``s = s_over_rho * rho(z)``, and their ratio to the envelope
    ``(2k - 1)!! (s / rho)^{2k} / k`` of theorem ``thm-gaussian-diverges``.

    By proposition ``prop-coefficients`` the ratio tends to ``|cos(2k phi)|``,
    ``phi = atan2(pi, z)``. Returns ``(terms, ratios)`` as floats (terms up to about 1e300).
    """
    z = _validate.real(z, "z")
    s_over_rho = _validate.scale(s_over_rho, "s_over_rho")
    k_max = _validate.order(k_max, "k_max", high=MAX_ORDER // 2)
    s = s_over_rho * float(softplus_radius(z))
    a = taylor_coefficients(z, 2 * k_max, dps=dps)
    terms = [abs(a[2 * k] * gaussian_moment(2 * k, s, dps)) for k in range(1, k_max + 1)]
    with mpmath.workdps(_dps(dps)):
        f = mpmath.mpf(s_over_rho)
        envelope = [mpmath.fac2(2 * k - 1) * f ** (2 * k) / k for k in range(1, k_max + 1)]
        ratios = [float(t / e) for t, e in zip(terms, envelope, strict=True)]
    return np.array([float(t) for t in terms]), np.array(ratios)


def gaussian_truncation_table(
    z0: float, s_over_rho: ArrayLike, k_max: int, dps: int = 30
) -> NDArray[np.float64]:
    """:func:`gaussian_truncation_errors` for each noise level ``s = f rho(z0)``, ``f`` in
    ``s_over_rho``: an array of shape ``(len(s_over_rho), k_max + 1)`` (chapter 3, proposition
    ``prop-asymptotic`` and figure ``fig-gaussian-truncation``)."""
    fractions = _validate.finite_array(s_over_rho, "s_over_rho", ndim=1)
    rho = float(softplus_radius(_validate.real(z0, "z0")))
    return np.array([gaussian_truncation_errors(z0, float(f) * rho, k_max, dps) for f in fractions])

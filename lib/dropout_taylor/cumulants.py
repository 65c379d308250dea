"""The softmax cumulant generating function and the radius of its Taylor series (chapter 6).

Perturb the logits ``z`` of a softmax layer along a direction ``Delta`` in R^K. With
``p = softmax(z)``,

    LSE(z + t Delta) - LSE(z) = log sum_k p_k e^{t Delta_k} = K(t)            (eq-cgf)

is the cumulant generating function (CGF) of ``Delta_k`` for ``k ~ p``. Its Taylor coefficients
are ``kappa_n / n!`` (``kappa_n`` the cumulants); the second-order term is
``Var_p(Delta) / 2 = Delta^T (diag p - p p^T) Delta / 2``.

The radius of convergence of the series of K at 0 is the modulus of the nearest complex zero of
the *partition function* ``M(t) = sum_k p_k e^{t Delta_k}`` (chapter 6, theorem
``thm-cgf-radius``). :func:`nearest_zero` computes it with a certified argument principle,
bisection and Newton's method; :func:`nearest_zero_mp` polishes a zero with ``mpmath.findroot``;
:func:`commensurate_radius` (integer multiples of a step, via polynomial roots),
:func:`two_class_radius` (closed form) and :func:`root_test_estimates` are independent oracles.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from . import _validate
from .logpartition import softplus_radius

#: Largest number of samples on a half circle used by :func:`zero_count`.
MAX_CIRCLE_POINTS = 1 << 16

Real = NDArray[np.float64]
Complex = NDArray[np.complex128]

#: Complex values evaluated per block (directions x points x classes).
_BLOCK = 1 << 22


def _pair(p: ArrayLike, delta: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate probability vectors ``p`` and directions ``delta`` (shape (..., K), broadcast)."""
    p = _validate.finite_array(p, "p")
    delta = _validate.finite_array(delta, "delta")
    if p.ndim == 0 or delta.ndim == 0 or p.shape[-1] != delta.shape[-1]:
        raise ValueError(
            f"p and delta must have shapes (..., K) with the same K, got {p.shape} and {delta.shape}"
        )
    try:
        p, delta = np.broadcast_arrays(p, delta)
    except ValueError:
        raise ValueError(
            f"p and delta must broadcast to one shape, got {p.shape} and {delta.shape}"
        ) from None
    if np.any(p < 0) or not np.allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-9):
        raise ValueError("p must be a probability vector: entries >= 0 summing to 1 along the last axis")
    return p, delta


def _centred(p: NDArray[np.float64], delta: NDArray[np.float64]) -> NDArray[np.float64]:
    """``delta - E_p delta``: the same zeros (a factor ``e^{t E_p delta}`` never vanishes)."""
    return delta - np.sum(p * delta, axis=-1, keepdims=True)


def cgf(p: ArrayLike, delta: ArrayLike, t: ArrayLike) -> NDArray[np.float64]:
    """``K(t) = log sum_k p_k e^{t Delta_k}`` for real ``t`` (eq. ``eq-cgf``), stably.

    ``p`` and ``delta`` have shape (..., K); ``t`` broadcasts against the leading axes.
    Classes with ``p_k = 0`` do not contribute.
    """
    p, delta = _pair(p, delta)
    t = _validate.finite_array(t, "t")
    return special.logsumexp(t[..., None] * delta, b=p, axis=-1)


def quadratic_term(p: ArrayLike, delta: ArrayLike) -> NDArray[np.float64]:
    """Second-order term ``Delta^T (diag p - p p^T) Delta / 2 = Var_{k~p}(Delta_k) / 2``.

    The quantity a second-order ("explicit") dropout regulariser keeps (chapter 6, eq.
    ``eq-cgf-quadratic``); computed as ``sum_k p_k (Delta_k - E_p Delta)^2 / 2``.
    """
    p, delta = _pair(p, delta)
    return 0.5 * np.sum(p * _centred(p, delta) ** 2, axis=-1)


def cgf_taylor_coefficients(p: ArrayLike, delta: ArrayLike, n_max: int) -> NDArray[np.float64]:
    """Taylor coefficients ``c_n = kappa_n / n!`` of K at 0, ``n = 0 .. n_max`` (float64).

    Moments of the centred direction ``d = Delta - E_p Delta`` give ``m_n = E_p d^n / n!``, the
    coefficients of ``M``; ``K = log M`` then follows from ``M K' = M'``:
    ``n c_n = n m_n - sum_{j=1}^{n-1} j c_j m_{n-j}``. Finally ``c_1 = E_p Delta``.
    Adequate in float64 for small orders (say ``n_max <= 12``); use :func:`cgf_taylor_coefficients_mp`
    for the high orders of a root test.
    """
    p, delta = _pair(p, delta)
    n_max = _validate.order(n_max, "n_max", high=60)
    d = _centred(p, delta)
    m = np.empty(p.shape[:-1] + (n_max + 1,))
    power = np.ones_like(d)
    factorial = 1.0
    for n in range(n_max + 1):
        if n > 0:
            power = power * d
            factorial *= n
        m[..., n] = np.sum(p * power, axis=-1) / factorial
    c = np.zeros_like(m)
    for n in range(1, n_max + 1):
        acc = n * m[..., n]
        for j in range(1, n):
            acc = acc - j * c[..., j] * m[..., n - j]
        c[..., n] = acc / n
    if n_max >= 1:
        c[..., 1] = np.sum(p * delta, axis=-1)
    return c


def cumulants(p: ArrayLike, delta: ArrayLike, n_max: int) -> NDArray[np.float64]:
    """Cumulants ``kappa_n`` of ``Delta_k``, ``k ~ p``, for ``n = 0 .. n_max`` (``kappa_0 = 0``):
    ``kappa_1`` is the mean, ``kappa_2`` the variance, ``kappa_3`` the third central moment."""
    c = cgf_taylor_coefficients(p, delta, n_max)
    factorials = np.cumprod(np.r_[1.0, np.arange(1, n_max + 1, dtype=float)])
    return c * factorials


def cgf_taylor_coefficients_mp(
    p: ArrayLike, delta: ArrayLike, n_max: int, dps: int = 50
) -> list[mpmath.mpf]:
    """The coefficients of :func:`cgf_taylor_coefficients` for one direction, in mpmath.

    Same recursion at ``dps`` digits plus a guard of ``n_max`` digits; the inputs are taken as
    exact binary floats. Used by the root test of chapter 6 (``n_max`` in the hundreds).
    """
    p, delta = _pair(p, delta)
    if p.ndim != 1:
        raise ValueError(f"p must be one probability vector of shape (K,), got shape {p.shape}")
    n_max = _validate.order(n_max, "n_max", high=2000)
    with mpmath.workdps(dps + n_max // 2 + 10):
        pm = [mpmath.mpf(float(v)) for v in p]
        dm = [mpmath.mpf(float(v)) for v in delta]
        mean = mpmath.fsum(a * b for a, b in zip(pm, dm, strict=True))
        d = [v - mean for v in dm]
        m = [mpmath.mpf(1)]
        powers = [mpmath.mpf(1)] * len(d)
        factorial = mpmath.mpf(1)
        for n in range(1, n_max + 1):
            powers = [a * b for a, b in zip(powers, d, strict=True)]
            factorial *= n
            m.append(mpmath.fsum(a * b for a, b in zip(pm, powers, strict=True)) / factorial)
        c = [mpmath.mpf(0)] * (n_max + 1)
        for n in range(1, n_max + 1):
            acc = n * m[n] - mpmath.fsum(j * c[j] * m[n - j] for j in range(1, n))
            c[n] = acc / n
        if n_max >= 1:
            c[1] = mean
        return [+v for v in c]


def root_test_estimates(coefficients: ArrayLike, window: int = 10) -> NDArray[np.float64]:
    """Root-test estimates of the radius: ``1 / max_{n-window < j <= n} |c_j|^{1/j}``.

    Cauchy-Hadamard: ``1/R = limsup |c_n|^{1/n}``; the running maximum over a window stands in
    for the limsup (the coefficients of K oscillate like ``cos(n phi)``). Entry ``n`` uses
    ``c_1 .. c_n``; entries with no nonzero coefficient in their window are ``inf``.
    Accepts floats or mpmath numbers (their logarithms are taken in mpmath).
    """
    window = _validate.order(window, "window", low=1)
    logs = [
        float(mpmath.log(abs(mpmath.mpf(c)))) / n if c != 0 else -np.inf
        for n, c in enumerate(coefficients)
        if n > 0
    ]
    logs = np.array([-np.inf] + logs)
    out = np.full(len(logs), np.inf)
    for n in range(1, len(logs)):
        best = np.max(logs[max(1, n - window + 1) : n + 1])
        out[n] = np.exp(-best) if np.isfinite(best) else np.inf
    return out


def two_class_radius(z: ArrayLike, delta: ArrayLike) -> NDArray[np.float64]:
    """Closed form for K = 2: ``sqrt((z_1 - z_2)^2 + pi^2) / |Delta_1 - Delta_2|``.

    Here ``LSE(z + t Delta) = z_2 + t Delta_2 + softplus(z_1 - z_2 + t (Delta_1 - Delta_2))``, so
    the radius is the softplus radius ``rho(z_1 - z_2)`` (chapter 3) divided by the speed
    ``|Delta_1 - Delta_2|`` (``inf`` when ``Delta_1 = Delta_2``).
    """
    z = _validate.finite_array(z, "z")
    delta = _validate.finite_array(delta, "delta")
    if z.shape[-1:] != (2,) or delta.shape != z.shape:
        raise ValueError(f"z and delta must have shape (..., 2), got {z.shape} and {delta.shape}")
    speed = np.abs(delta[..., 0] - delta[..., 1])
    rho = softplus_radius(z[..., 0] - z[..., 1])
    with np.errstate(divide="ignore"):
        return np.where(speed > 0, rho / np.where(speed > 0, speed, 1.0), np.inf)


def commensurate_radius(p: ArrayLike, steps: ArrayLike, h: float) -> float:
    """Radius for a direction ``Delta_k = n_k h`` with integers ``n_k``, via polynomial roots.

    With ``w = e^{t h}``, ``e^{-t h min n} M(t) = sum_k p_k w^{n_k - min n}`` is a polynomial
    in ``w``; each root ``w_j`` gives zeros ``t = (log|w_j| + i (arg w_j + 2 pi m)) / h``, the
    nearest with the principal argument. So ``R = min_j |Log w_j| / |h|`` (``numpy.roots``).
    An oracle independent of the argument principle (tests and chapter 6).
    """
    p = _validate.finite_array(p, "p", ndim=1)
    steps = np.asarray(steps)
    if steps.shape != p.shape or not np.issubdtype(steps.dtype, np.integer):
        raise ValueError("steps must be an integer array with the shape of p")
    if not np.isfinite(h) or h == 0:
        raise ValueError(f"h must be a finite nonzero real number, got {h!r}")
    keep = p > 0
    n = steps[keep] - steps[keep].min()
    if n.max() == 0:
        return float("inf")
    coeffs = np.zeros(int(n.max()) + 1)
    np.add.at(coeffs, n, p[keep])
    roots = np.roots(coeffs[::-1])
    return float(np.min(np.abs(np.log(roots.astype(complex)))) / abs(h))


def zero_count(
    p: ArrayLike, delta: ArrayLike, r: ArrayLike, max_points: int = MAX_CIRCLE_POINTS
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Number of zeros of ``M(t) = sum_k p_k e^{t Delta_k}`` in the open disc ``|t| < r``.

    Argument principle with a certificate. Zeros come in conjugate pairs and ``M > 0`` on the
    real axis, so the count is twice the winding of ``M`` along the upper half circle
    ``t = r e^{i theta}``, ``0 <= theta <= pi``, sampled at ``P + 1`` equally spaced angles.
    On the arc between two samples ``|M'| <= B = sum_k p_k |d_k| e^{r max(cos theta) d_k}``
    (``d`` the centred direction; the max is at an end point of the arc), so if the arc length
    ``r pi / P`` times ``B`` is below ``|M|`` at an end point, ``M`` stays in a disc that
    excludes 0: the argument moves by less than pi/2 and the principal increments add up to the
    exact winding. ``P`` doubles (64, 128, ...) until every arc passes or ``max_points``.
    Returns the counts and a flag per direction saying whether the certificate held.
    """
    p, delta = _pair(p, delta)
    lead = p.shape[:-1]
    K = p.shape[-1]
    p2 = p.reshape(-1, K)
    d2 = _centred(p, delta).reshape(-1, K)
    r = np.broadcast_to(_validate.finite_array(r, "r"), lead).reshape(-1)
    if np.any(r <= 0):
        raise ValueError("r must be > 0")
    counts = np.zeros(len(r), dtype=np.int64)
    certified = np.zeros(len(r), dtype=bool)
    # first try with about 2 samples per unit of r * spread (the phase speed of M), at least 64
    first = np.exp2(np.ceil(np.log2(np.maximum(64.0, 2.0 * r * _spread(p2, d2)))))
    todo = np.arange(len(r))
    points = 64
    while todo.size and points <= max_points:
        chunk = max(1, _BLOCK // ((points + 1) * K))
        failed = [todo[first[todo] > points]]
        todo = todo[first[todo] <= points]
        for start in range(0, todo.size, chunk):
            idx = todo[start : start + chunk]
            c, ok = _half_circle_winding(p2[idx], d2[idx], r[idx], points)
            counts[idx[ok]] = c[ok]
            certified[idx[ok]] = True
            failed.append(idx[~ok])
        todo = np.concatenate(failed)
        points *= 2
    return counts.reshape(lead), certified.reshape(lead)


def _half_circle_winding(
    p: NDArray[np.float64], d: NDArray[np.float64], r: NDArray[np.float64], points: int
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    theta = np.linspace(0.0, np.pi, points + 1)
    cos, sin = np.cos(theta), np.sin(theta)
    re = r[:, None, None] * cos[None, :, None] * d[:, None, :]  # (N, P+1, K)
    im = r[:, None, None] * sin[None, :, None] * d[:, None, :]
    with np.errstate(divide="ignore"):
        logp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), -np.inf)[:, None, :]
    # scale every direction by its largest modulus on the circle to avoid overflow
    shift = np.max(re + logp, axis=(1, 2), keepdims=True)
    weights = np.exp(re + logp - shift)
    values = np.sum(weights * np.exp(1j * im), axis=-1)  # M / e^shift, shape (N, P+1)
    modulus = np.abs(values)
    size = np.sum(weights, axis=-1)  # sum_k |p_k e^{t d_k}| / e^shift
    # e^{r cos(theta) d_k} is largest at an end point of the arc
    bound = np.sum(np.maximum(weights[:, :-1, :], weights[:, 1:, :]) * np.abs(d)[:, None, :], axis=-1)
    arc = (r * np.pi / points)[:, None]
    end = np.maximum(modulus[:, :-1], modulus[:, 1:])
    ok = np.all(arc * bound < 0.999 * end, axis=1) & np.all(modulus > 1e-12 * size, axis=1)
    steps = np.angle(values[:, 1:] * np.conj(values[:, :-1]))
    turns = np.sum(steps, axis=1) / (2 * np.pi)
    ok &= np.abs(turns - np.round(turns)) < 1e-6
    return 2 * np.round(turns).astype(np.int64), ok


@dataclass(frozen=True)
class NearestZero:
    """Nearest zeros ``t, conj(t)`` of ``M`` and the radius ``|t|`` of the CGF's Taylor series.

    ``lower`` and ``upper`` bracket the radius by the argument principle: no zero in
    ``|t| < lower``, exactly ``count`` zeros in ``|t| < upper``. ``certified`` says that the
    bracket holds exactly one conjugate pair and that ``zero`` (Newton-polished) is that pair,
    so ``radius = |zero|`` is exact to rounding. ``radius`` is ``inf`` (``zero`` nan) for a
    direction that is constant on the support of ``p``.
    """

    radius: NDArray[np.float64]
    zero: NDArray[np.complex128]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    count: NDArray[np.int64]
    certified: NDArray[np.bool_]


def _lower_bound(p: NDArray[np.float64], d: NDArray[np.float64]) -> NDArray[np.float64]:
    """Largest r with ``sum_k p_k (e^{r|d_k|} - 1 - r|d_k|) <= 1/2``: no zero in ``|t| <= r``.

    Since ``E_p d = 0``, ``M(t) e^{-t E Delta} = 1 + sum_k p_k (e^{t d_k} - 1 - t d_k)`` and the
    sum has modulus at most the same series at ``|t|`` with ``|d_k|``; below 1 nothing vanishes.
    """
    a = np.abs(d)
    scale = np.max(np.where(p > 0, a, 0.0), axis=-1)
    lo = np.zeros(len(p))
    hi = np.where(scale > 0, 50.0 / np.where(scale > 0, scale, 1.0), np.inf)
    for _ in range(40):  # the bracket [0, 50 / max|d|] shrinks to 5e-11 / max|d|
        mid = np.where(np.isfinite(hi), 0.5 * (lo + hi), 0.0)
        x = mid[:, None] * a
        val = np.sum(p * (np.expm1(x) - x), axis=-1)
        good = val <= 0.5
        lo = np.where(good, mid, lo)
        hi = np.where(good, hi, mid)
    return lo


def nearest_zero(p: ArrayLike, delta: ArrayLike, margin: float = 0.05) -> NearestZero:
    """Radius of convergence of K at 0 = modulus of the nearest zero of ``M`` (thm-cgf-radius).

    For each direction (leading axes of ``p`` and ``delta``, shape (..., K)):

    1. *search*: Newton's method on ``M`` from each of the K(K-1)/2 two-class zeros
       ``t = (log(p_k / p_j) + i pi) / (Delta_j - Delta_k)`` (where two terms of ``M`` cancel;
       the nearest zero is usually close to one of them); keep the converged zero of smallest
       modulus;
    2. *certificate*: :func:`zero_count` on the circles ``|t| = (1 -+ margin) |t*|`` must find 0
       and 2 zeros: then no zero is nearer than ``t*, conj(t*)`` and ``radius = |t*|``;
    3. *fallback* where 1-2 fail: a certified lower bound, doubling, and bisection on
       :func:`zero_count` until the bracket holds one conjugate pair, then Newton from the
       minimum of ``|M|`` on the outer circle.

    Use :func:`nearest_zero_mp` to polish a zero with mpmath.
    """
    p, delta = _pair(p, delta)
    if not 0 < margin < 0.5:
        raise ValueError(f"margin must be in (0, 0.5), got {margin!r}")
    lead = p.shape[:-1]
    K = p.shape[-1]
    p2 = p.reshape(-1, K)
    d2 = _centred(p, delta).reshape(-1, K)
    N = len(p2)
    finite = _spread(p2, d2) > 1e-14 * np.maximum(1.0, np.max(np.abs(d2), axis=-1))
    zero = np.full(N, np.nan + 1j * np.nan)
    lo = np.full(N, np.inf)
    hi = np.full(N, np.inf)
    count = np.zeros(N, dtype=np.int64)
    certified = np.zeros(N, dtype=bool)
    idx = np.flatnonzero(finite)
    if idx.size:
        t = _pairwise_search(p2[idx], d2[idx])
        mod = np.abs(t)
        good = np.isfinite(mod)
        inner = np.where(good, mod * (1 - margin), 1.0)
        outer = np.where(good, mod * (1 + margin), 1.0)
        c_in, ok_in = zero_count(p2[idx], d2[idx], inner)
        c_out, ok_out = zero_count(p2[idx], d2[idx], outer)
        cert = good & ok_in & ok_out & (c_in == 0) & (c_out == 2)
        sel = idx[cert]
        zero[sel], lo[sel], hi[sel], count[sel], certified[sel] = t[cert], inner[cert], outer[cert], 2, True
        rest = idx[~cert]
        if rest.size:
            z_r, lo_r, hi_r, c_r, cert_r = _bisection(p2[rest], d2[rest], t[~cert])
            zero[rest], lo[rest], hi[rest], count[rest], certified[rest] = z_r, lo_r, hi_r, c_r, cert_r
    radius = np.where(np.isfinite(zero), np.abs(zero), hi)
    return NearestZero(
        radius.reshape(lead),
        zero.reshape(lead),
        lo.reshape(lead),
        hi.reshape(lead),
        count.reshape(lead),
        certified.reshape(lead),
    )


def _pairwise_search(p: NDArray[np.float64], d: NDArray[np.float64]) -> NDArray[np.complex128]:
    """Newton from every two-class zero; the converged zero (Im > 0) of least modulus."""
    N, K = p.shape
    j, k = np.triu_indices(K, 1)
    valid = (p[:, j] > 0) & (p[:, k] > 0) & (d[:, j] != d[:, k])
    with np.errstate(divide="ignore", invalid="ignore"):
        starts = (np.log(p[:, k] / p[:, j]) + 1j * np.pi) / (d[:, j] - d[:, k])
    starts = np.where(valid, starts, np.inf)
    starts = np.where(starts.imag < 0, np.conj(starts), starts)
    keep = len(j)
    order = np.argsort(np.abs(starts), axis=1)[:, :keep]
    starts = np.take_along_axis(starts, order, axis=1)
    valid = np.take_along_axis(valid, order, axis=1)
    rows = np.repeat(np.arange(N), keep)
    t = _newton(p[rows], d[rows], np.where(valid, starts, 0.0).reshape(-1)).reshape(N, keep)
    t = np.where(t.imag < 0, np.conj(t), t)
    res = _residual(p[rows], d[rows], t.reshape(-1)).reshape(N, keep)
    converged = valid & np.isfinite(t) & (res < 1e-9) & (t.imag > 0)
    mod = np.where(converged, np.abs(t), np.inf)
    best = np.argmin(mod, axis=1)
    out = t[np.arange(N), best]
    return np.where(np.isfinite(mod[np.arange(N), best]), out, np.nan + 1j * np.nan)


def _bisection(p: Real, d: Real, guess: Complex):
    """Fallback of :func:`nearest_zero`: bracket by counting; accept ``guess`` if it lies in the
    bracket, else Newton from the least residual on the outer circle."""
    N = len(p)
    lo = _lower_bound(p, d)
    hi = 2.0 * lo
    count = np.zeros(N, dtype=np.int64)
    ok = np.ones(N, dtype=bool)
    active = np.arange(N)
    for _ in range(200):  # doubling
        if active.size == 0:
            break
        c, cert = zero_count(p[active], d[active], hi[active])
        ok[active] &= cert
        found = (c > 0) & cert
        count[active[found]] = c[found]
        grow = active[~found]
        lo[grow] = np.where(cert[~found], hi[grow], lo[grow])
        hi[grow] *= 2.0
        active = grow
    active = np.arange(N)
    split = (0.5, 0.37, 0.63, 0.25, 0.75)
    for attempt in range(400):  # bisection; an uncertified count retries at another split
        wide = (hi[active] / lo[active] > 1.01) | ((count[active] > 2) & (hi[active] / lo[active] > 1 + 1e-4))
        active = active[wide]
        if active.size == 0:
            break
        f = split[attempt % len(split)]
        mid = lo[active] ** (1 - f) * hi[active] ** f
        c, cert = zero_count(p[active], d[active], mid)
        inside = cert & (c > 0)
        empty = cert & (c == 0)
        hi[active[inside]] = mid[inside]
        count[active[inside]] = c[inside]
        lo[active[empty]] = mid[empty]
    def in_bracket(t: Complex) -> NDArray[np.bool_]:
        mod = np.abs(t)
        return (mod >= lo * (1 - 1e-12)) & (mod <= hi * (1 + 1e-12)) & (_residual(p, d, t) < 1e-9)

    t = np.where(np.isfinite(guess), guess, 0.0)
    redo = ~in_bracket(t)
    if np.any(redo):
        t_new = _newton(p[redo], d[redo], _start(p[redo], d[redo], hi[redo]))
        t[redo] = np.where(t_new.imag < 0, np.conj(t_new), t_new)
    inside = in_bracket(t)
    zero = np.where(inside, t, np.nan + 1j * np.nan)
    return zero, lo, hi, count, inside & ok & (count == 2)


def _spread(p: NDArray[np.float64], d: NDArray[np.float64]) -> NDArray[np.float64]:
    big = np.max(np.where(p > 0, d, -np.inf), axis=-1)
    small = np.min(np.where(p > 0, d, np.inf), axis=-1)
    return big - small


def _terms(p: Real, d: Real, t: Complex) -> Complex:
    """``p_k e^{t d_k}`` divided by the largest modulus (zero-free rescaling)."""
    with np.errstate(divide="ignore"):
        logp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), -np.inf)
    expo = logp + t[:, None] * d
    re = np.where(p > 0, expo.real, -np.inf)
    shift = np.max(re, axis=-1, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    return np.where(p > 0, np.exp(np.where(p > 0, expo, 0.0) - shift), 0.0)


def _residual(p: Real, d: Real, t: Complex) -> Real:
    """``|M(t)| / sum_k |p_k e^{t d_k}|``: 0 at a zero, 1 when nothing cancels."""
    terms = _terms(p, d, np.nan_to_num(t))
    return np.abs(terms.sum(axis=-1)) / np.abs(terms).sum(axis=-1)


def _start(p: NDArray[np.float64], d: NDArray[np.float64], r: NDArray[np.float64]) -> NDArray[np.complex128]:
    """The point of least residual on the upper half circle ``|t| = r`` (511 samples)."""
    theta = np.linspace(0.0, np.pi, 513)[1:-1]
    out = np.empty(len(r), dtype=complex)
    for i in range(len(r)):
        t = r[i] * np.exp(1j * theta)
        res = _residual(np.repeat(p[i : i + 1], len(t), 0), np.repeat(d[i : i + 1], len(t), 0), t)
        out[i] = t[np.argmin(res)]
    return out


def _newton(
    p: NDArray[np.float64], d: NDArray[np.float64], t: NDArray[np.complex128], iterations: int = 40
) -> NDArray[np.complex128]:
    t = np.asarray(t, dtype=complex).copy()
    with np.errstate(divide="ignore"):
        logp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), -np.inf)
    active = np.arange(len(t))
    with np.errstate(invalid="ignore", over="ignore"):
        for _ in range(iterations):
            expo = logp[active] + t[active, None] * d[active]
            terms = np.exp(expo - np.max(expo.real, axis=-1, keepdims=True))
            f = terms.sum(axis=-1)
            df = (terms * d[active]).sum(axis=-1)
            step = np.where(df != 0, f / np.where(df != 0, df, 1.0), 0.0)
            step = np.where(np.isfinite(step), step, 0.0)
            t[active] -= step
            active = active[np.abs(step) > 1e-15 * np.abs(t[active])]
            if active.size == 0:
                break
    return t


def converges_at(p: ArrayLike, delta: ArrayLike, t: float = 1.0) -> NDArray[np.bool_]:
    """Whether the Taylor series of K at 0 converges at ``t`` (radius ``R > t``), per direction.

    Chapter 6 asks this for ``t = 1``: does the series of ``LSE(z + Delta) - LSE(z)`` in the
    logit perturbation ``Delta`` converge? Decided, with a certificate for every direction, by
    (i) the lower bound of :func:`_lower_bound` (no zero in ``|s| <= t``), else (ii)
    :func:`zero_count` on ``|s| = t`` (up to 2^14 samples), else (iii) :func:`nearest_zero`
    (directions whose nearest zero lies within about 1e-3 of the circle). ``R = t`` exactly
    (measure zero) counts as not converging.
    """
    p, delta = _pair(p, delta)
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"t must be a finite real number > 0, got {t!r}")
    lead = p.shape[:-1]
    K = p.shape[-1]
    p2 = p.reshape(-1, K)
    d2 = _centred(p, delta).reshape(-1, K)
    out = _lower_bound(p2, d2) > t
    todo = np.flatnonzero(~out)
    if todo.size:
        c, ok = zero_count(p2[todo], d2[todo], np.full(todo.size, float(t)), max_points=1 << 14)
        out[todo[ok]] = c[ok] == 0
        rest = todo[~ok]
        if rest.size:
            out[rest] = nearest_zero(p2[rest], d2[rest]).radius > t
    return out.reshape(lead)


def nearest_zero_mp(p: ArrayLike, delta: ArrayLike, t0: complex, dps: int = 30) -> mpmath.mpc:
    """Polish a zero of ``M(t) = sum_k p_k e^{t Delta_k}`` from ``t0`` with ``mpmath.findroot``.

    Newton's method at ``dps`` digits with the exact derivative ``sum_k p_k Delta_k e^{t Delta_k}``
    (inputs taken as exact binary floats). Returns the zero as an ``mpc``.
    """
    p, delta = _pair(p, delta)
    if p.ndim != 1:
        raise ValueError(f"p must be one probability vector of shape (K,), got shape {p.shape}")
    with mpmath.workdps(dps + 10):
        pm = [mpmath.mpf(float(v)) for v in p]
        dm = [mpmath.mpf(float(v)) for v in delta]

        def f(t):
            return mpmath.fsum(a * mpmath.exp(t * b) for a, b in zip(pm, dm, strict=True))

        def df(t):
            return mpmath.fsum(a * b * mpmath.exp(t * b) for a, b in zip(pm, dm, strict=True))

        root = mpmath.findroot(f, mpmath.mpc(complex(t0)), df=df, solver="newton")
        return +root


def partition_modulus_grid(
    p: ArrayLike, delta: ArrayLike, extent: float, n: int = 201
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``log10 |M(t)| - log10 sum_k |p_k e^{t Delta_k}|`` on an n x n grid of ``|Re t|, |Im t| <=
    extent``: 0 where nothing cancels, very negative at the zeros of ``M`` (figure of chapter 6).
    Returns ``(re, im, values)``."""
    p, delta = _pair(p, delta)
    if p.ndim != 1:
        raise ValueError(f"p must be one probability vector of shape (K,), got shape {p.shape}")
    axis = np.linspace(-extent, extent, n)
    t = (axis[None, :] + 1j * axis[:, None]).reshape(-1)
    d = _centred(p, delta)
    P, D = np.broadcast_to(p, (t.size, p.size)), np.broadcast_to(d, (t.size, p.size))
    values = np.log10(np.maximum(_residual(P, D, t), 1e-16)).reshape(n, n)
    return axis, axis, values


def mixture_coefficients(coefficients: list[list], dps: int = 60) -> list[mpmath.mpf]:
    """The equal-weight average ``a_n = (1/U) sum_u c_n(u)`` of the Taylor coefficient lists of
    ``U`` series (one per mask), in mpmath at ``dps`` digits (chapter 6, theorem
    ``thm-last-layer``: the expected series of last-layer dropout, restricted to ``U`` masks of
    equal probability). All lists must have the same length."""
    if not coefficients or len({len(c) for c in coefficients}) != 1:
        raise ValueError("coefficients must be a non-empty list of equally long coefficient lists")
    if dps < 15:
        raise ValueError(f"dps must be an integer >= 15, got {dps}")
    with mpmath.workdps(dps):
        return [
            mpmath.fsum(mpmath.mpf(c[n]) for c in coefficients) / len(coefficients)
            for n in range(len(coefficients[0]))
        ]


def plot_partition_zeros(ax, p: ArrayLike, delta: ArrayLike, zero: complex,
                         extent: float = 3.5, n: int = 351):
    """Draw how much the terms of ``M(t) = sum_k p_k e^{t Delta_k}`` cancel in the complex
    ``t``-plane (:func:`partition_modulus_grid`), the nearest zeros ``zero``, ``conj(zero)`` and
    the circle ``|t| = |zero|`` (chapter 6, ``fig-cgf-zeros``, left). Returns the mesh, for a
    colour bar."""
    import matplotlib.pyplot as plt

    from .plotting import PALETTE

    if not np.isfinite(zero) or zero.imag == 0:
        raise ValueError(f"zero must be a finite non-real complex number, got {zero!r}")
    re_axis, im_axis, cancellation = partition_modulus_grid(p, delta, extent=extent, n=n)
    mesh = ax.pcolormesh(re_axis, im_axis, cancellation, shading="auto", cmap="cividis",
                         vmin=-2.5, vmax=0)
    ax.add_patch(plt.Circle((0, 0), abs(zero), fill=False, color=PALETTE[6], lw=2))
    ax.plot([zero.real] * 2, [zero.imag, -zero.imag], "o", color=PALETTE[6],
            label="nearest zeros")
    ax.plot([0], [0], "+", color="black", ms=12, label="$t = 0$")
    ax.set(xlabel=r"Re $t$", ylabel=r"Im $t$", aspect="equal")
    ax.legend(loc="lower left")
    return mesh


def plot_root_test(ax, estimates: ArrayLike, radius: float, start: int = 20) -> None:
    """Draw root-test estimates of the radius (:func:`root_test_estimates`) against the order
    ``n >= start``, with the exact radius as a dashed line (chapter 6, ``fig-cgf-zeros``)."""
    from .plotting import PALETTE

    estimates = np.asarray(estimates, dtype=float)
    if not 1 <= start < estimates.size:
        raise ValueError(f"start must be an integer in [1, {estimates.size - 1}], got {start}")
    orders = np.arange(start, estimates.size)
    ax.plot(orders, estimates[start:], color=PALETTE[5], label="root-test estimate")
    ax.axhline(radius, color=PALETTE[6], ls="--", label="$R$ = |nearest zero|")
    ax.set(xlabel="order $n$", ylabel="estimate of the radius $R$")
    ax.legend()

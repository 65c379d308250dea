"""Benchmark rows for the Taylor-series computations of chapter 3 (``03_divergence``):
mpmath Taylor coefficients of softplus, the expected series on exact dropout atoms, and the
Gaussian truncation errors. Run alone: ``python bench/bench_series.py`` (a few seconds)."""

from __future__ import annotations

import time
from collections.abc import Callable

from dropout_taylor import series


def _time(fun: Callable[[], object]) -> float:
    start = time.perf_counter()
    fun()
    return time.perf_counter() - start


def rows() -> list[tuple[str, str, str]]:
    series.softplus_derivative_coefficients.cache_clear()
    series._taylor_coefficients.cache_clear()
    t_cold = _time(lambda: series.taylor_coefficients(1.2345, 200, dps=30))
    series._taylor_coefficients.cache_clear()
    t_coef = _time(lambda: series.taylor_coefficients(1.2345, 200, dps=30))
    atoms = series.dropout_atoms_mp([6.0, -4.0, 1.5, -0.5], 0.5)
    series._taylor_coefficients.cache_clear()
    t_exp = _time(lambda: series.expected_series(3.0, *atoms, n_max=80, dps=30))
    series._taylor_coefficients.cache_clear()
    t_gauss = _time(lambda: series.gaussian_truncation_errors(2.0, 1.0, 30, dps=30))
    series._taylor_coefficients.cache_clear()
    fractions = [0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1.0]
    t_table = _time(lambda: series.gaussian_truncation_table(2.0, fractions, 30, dps=30))
    return [
        ("softplus Taylor coefficients a_0..a_200, 30 digits, cold", f"{t_cold * 1e3:.0f}", "ms"),
        ("softplus Taylor coefficients a_0..a_200, 30 digits, warm", f"{t_coef * 1e3:.0f}", "ms"),
        ("expected series, 16 dropout atoms, n <= 80, 30 digits", f"{t_exp * 1e3:.0f}", "ms"),
        ("Gaussian truncation errors, 2K <= 60, with mpmath quadrature", f"{t_gauss * 1e3:.0f}", "ms"),
        ("Gaussian truncation table, 8 noise levels, 2K <= 60 (chapter 3)", f"{t_table * 1e3:.0f}", "ms"),
    ]


if __name__ == "__main__":
    for what, value, unit in rows():
        print(f"| {what} | {value} | {unit} |")

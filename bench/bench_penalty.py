"""Benchmark rows for the exact dropout penalty engine, the Monte Carlo control variate and the
fits of chapter 5 (``05_cost``). Run alone: ``python bench/bench_penalty.py`` (about 30 s)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

import dropout_taylor as dt
from dropout_taylor import fitting
from dropout_taylor import penalty as pen
from dropout_taylor import training as tr

RATE = "masks x examples / s"


def _best_time(fun: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fun()
        best = min(best, time.perf_counter() - start)
    return best


def _engine_rows() -> list[tuple[str, str, str]]:
    features, _ = tr.load_dataset(tr.DATASETS[0])
    z = (features - features.mean(0)) / features.std(0)
    X = np.c_[np.ones(len(z)), z[:, :20]]
    noisy = np.r_[False, np.ones(20, bool)]
    beta = 0.3 * np.random.default_rng(0).normal(size=21)
    work = X.shape[0] * 2**20
    t_value = _best_time(lambda: pen.exact_penalty(X, beta, 0.5, noisy), 2)
    t_grad = _best_time(lambda: pen.exact_penalty_and_grad(X, beta, 0.5, noisy), 2)
    small = dt.Dropout(0.5, noisy=noisy[:17])
    t_lib = _best_time(lambda: dt.exact_regularizer(X[:40, :17], beta[:17], small), 2)
    return [
        (
            "exact penalty engine, value (n = 569, d = 20, 1 core)",
            f"{work / t_value:.3g}",
            RATE,
        ),
        ("exact penalty engine, value + gradient (same)", f"{work / t_grad:.3g}", RATE),
        (
            "dt.exact_regularizer for comparison (n = 40, d = 16)",
            f"{40 * 2**16 / t_lib:.3g}",
            RATE,
        ),
    ]


def _variance_rows(digits: tr.Split) -> list[tuple[str, str, str]]:
    out = []
    for delta in (0.2, 0.5):
        args = (digits.X_train, digits.y_train, delta)
        beta = fitting.fit_dropout(*args, np.random.default_rng(1), 16, digits.noisy)
        for control in ("taylor", "fitted"):
            est = pen.mc_penalty(
                digits.X_train,
                beta,
                delta,
                np.random.default_rng(2),
                1000,
                digits.noisy,
                control,
            )
            what = f"MC variance reduction, {control} control (digits, dropout fit, delta {delta})"
            out.append((what, f"{est.variance_reduction:.3g}", "x"))
    return out


def _fit_rows(digits: tr.Split) -> list[tuple[str, str, str]]:
    features, labels = tr.load_dataset(tr.DATASETS[0])
    bc = tr.train_test_design(features[:, :10], labels, seed=0)
    a = (bc.X_train, bc.y_train, 0.5)
    g = (digits.X_train, digits.y_train, 0.5)
    bn, dn = bc.noisy, digits.noisy

    def rng() -> np.random.Generator:
        return np.random.default_rng(0)

    fits: list[tuple[str, Callable[[], object]]] = [
        ("fit: exact dropout, penalty engine (cancer, d = 10)", lambda: tr.fit_dropout_enumerated(*a, bn)),
        ("fit: exact dropout, fitting.fit_dropout_exact (same)", lambda: fitting.fit_dropout_exact(*a, bn)),
        ("fit: R^q, fitting.fit_quadratic (same)", lambda: fitting.fit_quadratic(*a, bn)),
        ("fit: L2 lam = 1, fitting.fit_l2 (same)", lambda: fitting.fit_l2(*a[:2], 1.0, bn)),
        ("fit: dropout, plain MC, 12 masks (digits, d = 60)", lambda: fitting.fit_dropout(*g, rng(), 12, dn)),
        ("fit: dropout, MC + Taylor control, 12 masks (same)", lambda: tr.fit_dropout_cv(*g, rng(), 12, dn)),
        ("fit: R^q, fitting.fit_quadratic (same)", lambda: fitting.fit_quadratic(*g, dn)),
        ("fit: L2 lam = 3, fitting.fit_l2 (same)", lambda: fitting.fit_l2(*g[:2], 3.0, dn)),
    ]  # fmt: skip
    return [(what, f"{_best_time(fun, 1):.3g}", "s") for what, fun in fits]


def _noise_floor_rows(digits: tr.Split) -> list[tuple[str, str, str]]:
    """The larger runs behind chapter 5's digits angles: two fits with independent masks."""
    g = (digits.X_train, digits.y_train, 0.5)
    out = []
    for name, fit in (
        ("plain MC", fitting.fit_dropout),
        ("MC + Taylor control", tr.fit_dropout_cv),
    ):
        for masks in (12, 64):
            b1, b2 = (
                fit(*g, np.random.default_rng(s), masks, digits.noisy) for s in (11, 12)
            )
            what = f"digits, delta 0.5: angle between two {masks}-mask dropout fits ({name})"
            out.append((what, f"{tr.angle_degrees(b1[1:], b2[1:]):.3g}", "degrees"))
    return out


def rows() -> list[tuple[str, str, str]]:
    with threadpool_limits(limits=1):  # "one core"
        digits = tr.train_test_design(*tr.load_dataset(tr.DATASETS[1]), seed=0)
        return (
            _engine_rows()
            + _variance_rows(digits)
            + _fit_rows(digits)
            + _noise_floor_rows(digits)
        )


if __name__ == "__main__":
    for row in rows():
        print(" | ".join(row))

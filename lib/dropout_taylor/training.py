"""Training logistic regression with dropout, with the R^q penalty and with L2 (chapter 5).

Chapter 5 (``05_cost``, section "Training with dropout, with R^q and with L2") fits logistic
regression three ways on two data sets bundled with scikit-learn and measures what each fit
learns (its direction, compared with the dropout fit) and what it pays under the exact
dropout penalty ``R`` of :mod:`dropout_taylor.penalty`:

* data: :func:`load_dataset`, :func:`train_test_design` (a :class:`Split`), :func:`log_loss`;
* fits: :func:`fit_dropout_enumerated` (exact dropout, the enumeration engine inside
  L-BFGS-B), :func:`fit_dropout_cv` (Monte Carlo dropout with the Taylor control variate,
  benchmark only), :func:`choose_l2_strength` (cross-validated ridge);
* the comparison: :func:`compare_fits`, :func:`run_comparison` (a :class:`FitRecord` per fit),
  and its summaries :func:`summarize`, :func:`summary_values`, :func:`format_table`,
  :func:`penalty_gaps`, :func:`angle_degrees`.

The figures of the comparison are in :mod:`dropout_taylor.plots_cost`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from threadpoolctl import threadpool_limits

from . import _validate
from .penalty import (
    _LOW_FEATURES,
    exact_penalty,
    exact_penalty_and_grad,
    mc_penalty,
    quadratic_penalty_and_grad,
)

#: The two data sets of the training comparison, both bundled with scikit-learn.
DATASETS = ("breast cancer", "digits: 8 vs rest")

#: The three fits compared in chapter 5.
METHODS = ("dropout", "quadratic", "l2")


def load_dataset(name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Raw features and 0/1 labels of one of :data:`DATASETS` (scikit-learn, no download).

    ``"breast cancer"``: 569 tumours, 30 features, label 1 = benign. ``"digits: 8 vs rest"``:
    1797 handwritten 8x8 digits, 64 pixel intensities, label 1 = the digit 8.
    """
    from sklearn import datasets

    if name == DATASETS[0]:
        data = datasets.load_breast_cancer()
        return np.asarray(data.data, float), np.asarray(data.target, float)
    if name == DATASETS[1]:
        data = datasets.load_digits()
        return np.asarray(data.data, float), (np.asarray(data.target) == 8).astype(
            float
        )
    raise ValueError(f"name must be one of {DATASETS}, got {name!r}")


@dataclass(frozen=True)
class Split:
    """A stratified train/test split, standardised on the training half, with an intercept.

    Column 0 of ``X_train``/``X_test`` is the intercept (never dropped: ``noisy[0]`` is False);
    features constant on the training half are removed.
    """

    X_train: NDArray[np.float64]
    y_train: NDArray[np.float64]
    X_test: NDArray[np.float64]
    y_test: NDArray[np.float64]
    noisy: NDArray[np.bool_]


def train_test_design(
    features: ArrayLike, labels: ArrayLike, seed: int, test_fraction: float = 0.5
) -> Split:
    """Stratified split (``sklearn.model_selection.train_test_split`` with ``random_state=seed``),
    features standardised with the training mean and standard deviation, intercept prepended."""
    from sklearn.model_selection import train_test_split

    features = _validate.finite_array(features, "features", ndim=2)
    labels = _validate.finite_array(labels, "labels", ndim=1)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    f_tr, f_te, y_tr, y_te = train_test_split(
        features, labels, test_size=test_fraction, random_state=seed, stratify=labels
    )
    mean, std = f_tr.mean(axis=0), f_tr.std(axis=0)
    ok = std > 0

    def design(f: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.hstack([np.ones((f.shape[0], 1)), (f[:, ok] - mean[ok]) / std[ok]])

    noisy = np.r_[False, np.ones(int(ok.sum()), bool)]
    return Split(design(f_tr), y_tr, design(f_te), y_te, noisy)


def log_loss(X: ArrayLike, y: ArrayLike, beta: ArrayLike) -> float:
    """Mean logistic loss ``1/n sum_i A(z_i) - y_i z_i`` (nats per example): the summed
    :func:`dropout_taylor.fitting.logistic_loss` over ``n``."""
    from .fitting import logistic_loss

    loss, _ = logistic_loss(X, y, beta)
    return loss / len(y)


def choose_l2_strength(
    X: ArrayLike,
    y: ArrayLike,
    noisy: ArrayLike,
    lams: ArrayLike,
    n_folds: int = 5,
    seed: int = 0,
) -> float:
    """The ``lam`` of :func:`dropout_taylor.fitting.fit_l2` (intercept unpenalised) with the
    smallest mean held-out log-loss over ``n_folds`` stratified folds (``StratifiedKFold``,
    shuffled with ``random_state=seed``)."""
    from sklearn.model_selection import StratifiedKFold

    from .fitting import fit_l2

    X = _validate.finite_array(X, "X", ndim=2)
    y = np.asarray(y, float)
    lams = _validate.finite_array(lams, "lams", ndim=1)
    folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(X, y))
    with threadpool_limits(
        limits=1, user_api="blas"
    ):  # small products: threads only cost
        scores = [
            np.mean(
                [
                    log_loss(X[te], y[te], fit_l2(X[tr], y[tr], lam, noisy))
                    for tr, te in folds
                ]
            )
            for lam in lams
        ]
    return float(lams[int(np.argmin(scores))])


def fit_dropout_enumerated(
    X: ArrayLike,
    y: ArrayLike,
    delta: float,
    noisy: ArrayLike | None = None,
    start: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Exact dropout training, ``argmin sum_i A(z_i) - y_i z_i + R(beta)``, with the enumeration
    engine :func:`dropout_taylor.penalty.exact_penalty_and_grad` inside
    :func:`dropout_taylor.fitting.minimize` (L-BFGS-B), started at ``start``.

    The objective is convex (a mean of convex functions of beta), so ``start`` (default 0; the
    ``R^q`` fit is a good one) only changes the number of iterations. The same minimiser as
    :func:`dropout_taylor.fitting.fit_dropout_exact` (whose objective is the same function
    written as ``sum_i E A(x_tilde_i . beta) - y_i z_i``), faster.
    """
    from .fitting import logistic_loss, minimize

    X = _validate.finite_array(X, "X", ndim=2)
    x0 = (
        np.zeros(X.shape[1])
        if start is None
        else _validate.finite_array(start, "start", ndim=1)
    )
    if x0.shape != (X.shape[1],):
        raise ValueError(
            f"start must have {X.shape[1]} entries (one per column of X), got {x0.shape}"
        )

    def objective(u: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        beta = x0 + u  # fitting.minimize starts from u = 0, i.e. from beta = start
        loss, g_loss = logistic_loss(X, y, beta)
        pen, g_pen = exact_penalty_and_grad(X, beta, delta, noisy)
        return loss + pen, g_loss + g_pen

    return x0 + minimize(objective, X.shape[1])


def angle_degrees(u: ArrayLike, v: ArrayLike) -> float:
    """Angle between two coefficient vectors, in degrees (0 = same direction)."""
    u, v = np.asarray(u, float), np.asarray(v, float)
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    # 2 atan2(|u - v|, |u + v|): accurate for tiny angles too, where arccos(u . v) is not
    return float(
        np.degrees(2.0 * np.arctan2(np.linalg.norm(u - v), np.linalg.norm(u + v)))
    )


@dataclass(frozen=True)
class FitRecord:
    """One fit and what it pays. Norms and angles are over the dropped coefficients (the
    intercept excluded); ``penalty`` is the exact dropout penalty ``R(beta)`` on the training
    half (enumerated, or Monte Carlo with ``penalty_se`` its standard error);
    ``objective = training loss + R``, the real dropout objective. For the dropout fit itself
    ``angle_to_dropout`` is the angle between two Monte Carlo dropout fits with independent
    masks (0 when dropout is marginalised exactly): the noise floor of the other angles."""

    method: str
    beta: NDArray[np.float64]
    norm: float
    angle_to_dropout: float
    penalty: float
    penalty_se: float
    quadratic_penalty: float
    objective: float
    test_log_loss: float
    test_accuracy: float


def compare_fits(
    split: Split,
    delta: float,
    lam: float,
    rng: np.random.Generator,
    n_masks_fit: int = 32,
    n_masks_penalty: int = 64,
) -> dict[str, FitRecord]:
    """Fit (a) dropout, (b) the ``R^q`` penalty, (c) L2 with strength ``lam`` on one split and
    measure each fit (chapter 5, the training comparison).

    Dropout is marginalised exactly (:func:`fit_dropout_enumerated`) when there are at most 12
    dropped features, otherwise by plain Monte Carlo with ``n_masks_fit`` masks per example
    drawn from ``rng`` (:func:`dropout_taylor.fitting.fit_dropout`, a convex objective), twice
    with independent masks to measure the Monte Carlo noise in the fit. ``R(beta)`` is
    enumerated in the first case, else estimated by :func:`mc_penalty` with
    ``n_masks_penalty`` masks (fitted control variates) from ``rng``.
    """
    small = int(split.noisy.sum()) <= _LOW_FEATURES
    with threadpool_limits(limits=1, user_api="blas"):
        return _compare(split, delta, lam, rng, n_masks_fit, n_masks_penalty, small)


def _compare(
    split: Split,
    delta: float,
    lam: float,
    rng: np.random.Generator,
    n_masks_fit: int,
    n_masks_penalty: int,
    small: bool,
) -> dict[str, FitRecord]:
    from .fitting import fit_dropout, fit_l2, fit_quadratic

    Xtr, ytr, noisy = split.X_train, split.y_train, split.noisy
    quadratic = fit_quadratic(Xtr, ytr, delta, noisy)
    if small:
        replicate = fit_dropout_enumerated(Xtr, ytr, delta, noisy, start=quadratic)
    else:
        replicate = fit_dropout(Xtr, ytr, delta, rng, n_masks_fit, noisy)
    betas = {
        "dropout": (
            replicate
            if small
            else fit_dropout(Xtr, ytr, delta, rng, n_masks_fit, noisy)
        ),
        "quadratic": quadratic,
        "l2": fit_l2(Xtr, ytr, lam, noisy),
    }
    out = {}
    for method, beta in betas.items():
        if small:
            pen, se = exact_penalty(Xtr, beta, delta, noisy), 0.0
        else:
            est = mc_penalty(Xtr, beta, delta, rng, n_masks_penalty, noisy)
            pen, se = est.estimate, est.stderr
        rq, _ = quadratic_penalty_and_grad(Xtr, beta, delta, noisy)
        out[method] = FitRecord(
            method=method,
            beta=beta,
            norm=float(np.linalg.norm(beta[noisy])),
            angle_to_dropout=angle_degrees(
                beta[noisy],
                (replicate if method == "dropout" else betas["dropout"])[noisy],
            ),
            penalty=float(pen),
            penalty_se=float(se),
            quadratic_penalty=rq,
            objective=log_loss(Xtr, ytr, beta) * len(ytr) + float(pen),
            test_log_loss=log_loss(split.X_test, split.y_test, beta),
            test_accuracy=float(
                np.mean((split.X_test @ beta > 0) == (split.y_test == 1))
            ),
        )
    return out


def dropout_objective_cv(
    X: ArrayLike,
    y: ArrayLike,
    delta: float,
    rng: np.random.Generator,
    n_masks: int,
    noisy: ArrayLike | None = None,
) -> Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]]:
    """Monte Carlo dropout objective with the Taylor control variate, as a function of beta.

    With masks drawn once (``n_masks`` per example, :func:`dropout_taylor.fitting.dropout_design`),
    ``Delta_im = (x_tilde_im - x_i) . beta`` and the exact ``V_i = Var Delta_i``:

        F(beta) = sum_i A(z_i) - y_i z_i + R^q_i
                  + 1/M sum_m [A(z_i + Delta_im) - A(z_i) - A'(z_i) Delta_im - A''(z_i)/2 Delta_im^2]

    (``R^q_i = A''(z_i) V_i / 2``). For every beta its mean over the masks is the exact dropout
    objective, and its variance is that of the Taylor remainder only, far below the plain
    average's (chapter 5: the ``"taylor"`` control of :func:`mc_penalty` inside the optimiser).
    Not convex: with few masks (8 on digits at delta = 0.5) L-BFGS-B from zero has been seen to
    run off to huge weights, so chapter 5 trains with the convex plain objective and uses this
    one only in the benchmark, with 64 masks.
    """
    from .fitting import dropout_design

    X = _validate.finite_array(X, "X", ndim=2)
    y = _validate.finite_array(y, "y", ndim=1)
    delta = _validate.rate(delta)
    keep = _validate.feature_mask(noisy, X.shape[1])
    n, p = X.shape
    r = delta / (1.0 - delta)
    tilde = dropout_design(X, delta, rng, n_masks, keep).reshape(n * n_masks, p)
    diff = tilde - np.repeat(X, n_masks, axis=0)  # x_tilde - x, zero on clean columns
    diff_mean = diff.reshape(n, n_masks, p).mean(axis=1)
    X2 = X**2 * keep

    def objective(beta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        z = X @ beta
        s, t = special.expit(z), special.expit(-z)
        a2, a3 = s * t, s * t * (t - s)
        dlt = (diff @ beta).reshape(n, n_masks)
        zt = z[:, None] + dlt
        v = r * (X2 @ beta**2)
        q = np.mean(dlt**2, axis=1)
        value = np.sum(
            np.mean(np.logaddexp(0.0, zt), axis=1)
            - y * z
            - s * dlt.mean(1)
            + 0.5 * a2 * (v - q)
        )
        grad = tilde.T @ special.expit(zt).ravel() / n_masks - X.T @ y
        grad -= X.T @ (a2 * dlt.mean(1)) + diff_mean.T @ s
        grad += X.T @ (0.5 * a3 * (v - q)) + 2 * r * beta * (X2.T @ (0.5 * a2))
        grad -= diff.T @ ((a2[:, None] * dlt).ravel()) / n_masks
        return float(value), grad

    return objective


def fit_dropout_cv(
    X: ArrayLike,
    y: ArrayLike,
    delta: float,
    rng: np.random.Generator,
    n_masks: int = 32,
    noisy: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Dropout training for any d: minimise :func:`dropout_objective_cv` with L-BFGS-B from 0."""
    from .fitting import minimize

    X = _validate.finite_array(X, "X", ndim=2)
    return minimize(dropout_objective_cv(X, y, delta, rng, n_masks, noisy), X.shape[1])


def run_comparison(
    dataset: str,
    seeds: ArrayLike,
    deltas: ArrayLike,
    lams: ArrayLike,
    n_features: int | None = None,
    n_masks_fit: int = 8,
    n_masks_penalty: int = 16,
) -> dict[tuple[int, float], dict[str, FitRecord]]:
    """:func:`compare_fits` over splits (``seeds``) and dropout rates; ``lam`` chosen per split by
    :func:`choose_l2_strength` over ``lams``. ``n_features`` keeps the first features only
    (breast cancer: the first 10 are the "mean" measurements). Masks come from
    ``np.random.default_rng([seed, round(1000 delta)])``: deterministic. Returns
    ``{(seed, delta): {method: FitRecord}}``."""
    features, labels = load_dataset(dataset)
    if n_features is not None:
        features = features[:, :n_features]
    out = {}
    for seed in [int(s) for s in seeds]:
        split = train_test_design(features, labels, seed)
        lam = choose_l2_strength(
            split.X_train, split.y_train, split.noisy, lams, seed=seed
        )
        for delta in [float(d) for d in deltas]:
            rng = np.random.default_rng([seed, round(1000 * delta)])
            out[seed, delta] = compare_fits(
                split, delta, lam, rng, n_masks_fit, n_masks_penalty
            )
    return out


def summarize(
    results: dict[tuple[int, float], dict[str, FitRecord]], method: str, quantity: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``(deltas, mean, sd)`` of a :class:`FitRecord` field over the seeds, per dropout rate.

    ``quantity`` is a field name, or ``"penalty_ratio"`` for ``R(beta) / R^q(beta)``."""
    deltas = np.array(sorted({d for _, d in results}))
    mean, sd = [], []
    for delta in deltas:
        recs = [v[method] for (_, d), v in results.items() if d == delta]
        if quantity == "penalty_ratio":
            vals = np.array([r.penalty / r.quadratic_penalty for r in recs])
        else:
            vals = np.array([getattr(r, quantity) for r in recs], dtype=float)
        mean.append(vals.mean())
        sd.append(vals.std(ddof=1) if len(vals) > 1 else 0.0)
    return deltas, np.array(mean), np.array(sd)


def _plus_minus(mean: float, sd: float) -> str:
    """``mean±sd``: the mean to 3 significant digits, the sd to one digit (whole units if
    it is 1 or more), e.g. ``37.3±17``, ``0.904±0.0006``."""
    return f"{mean:.3g}±{sd:.0f}" if sd >= 1 else f"{mean:.3g}±{sd:.1g}"


def format_table(results: dict[tuple[int, float], dict[str, FitRecord]]) -> str:
    """A plain-text table of :func:`summarize` (mean±sd over splits, the sd to one digit) for
    every method and rate: angle to the dropout fit, norm, ``R/R^q``, held-out log-loss and
    accuracy. Lines stay under 80 characters for the usual magnitudes (chapter 5 prints it)."""
    quantities = (
        "angle_to_dropout",
        "norm",
        "penalty_ratio",
        "test_log_loss",
        "test_accuracy",
    )
    head = ("angle (deg)", "|beta|", "R / R^q", "log-loss", "accuracy")
    lines = [f"{'rate':>4} {'method':>9} " + " ".join(f"{h:>12}" for h in head)]
    for method in METHODS:
        cols = [summarize(results, method, q) for q in quantities]
        for k, delta in enumerate(cols[0][0]):
            cells = [_plus_minus(c[1][k], c[2][k]) for c in cols]
            lines.append(
                f"{delta:>4} {method:>9} " + " ".join(f"{c:>12}" for c in cells)
            )
    return "\n".join(lines)


def summary_values(
    results: dict[tuple[int, float], dict[str, FitRecord]], tag: str
) -> dict[str, float]:
    """Means over splits, keyed ``{tag}_{method}_{quantity}_{100 delta}``, for the prose of
    chapter 5: angle to the dropout fit (degrees), ``R/R^q`` (``penalty_ratio``), held-out
    log-loss and accuracy (in %)."""
    out = {}
    for method in METHODS:
        for quantity in (
            "angle_to_dropout",
            "penalty_ratio",
            "test_log_loss",
            "test_accuracy",
        ):
            deltas, mean, _ = summarize(results, method, quantity)
            scale = 100.0 if quantity == "test_accuracy" else 1.0
            for delta, value in zip(deltas, mean, strict=True):
                out[f"{tag}_{method}_{quantity}_{round(100 * delta)}"] = float(
                    value * scale
                )
    return out


def penalty_gaps(
    results: Iterable[dict[tuple[int, float], dict[str, FitRecord]]],
    methods: tuple[str, ...],
) -> NDArray[np.float64]:
    """``(R(beta) - R^q(beta)) / se`` for every fit of ``methods`` in each of ``results`` (one
    :func:`run_comparison` per data set): how many standard errors of the estimate of ``R``
    the exact penalty lies above ``R^q``. ``se`` is zero for enumerated fits and is replaced
    by 1e-300, so an exact gap is +-huge. Chapter 5 checks that these are never below -3 for
    the dropout and ``R^q`` fits (``R^q`` understates the price)."""
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"methods must be among {METHODS}, got {sorted(unknown)}")
    records = [fits[m] for res in results for fits in res.values() for m in methods]
    return np.array(
        [(r.penalty - r.quadratic_penalty) / max(r.penalty_se, 1e-300) for r in records]
    )

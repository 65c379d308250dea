"""Tests of dropout_taylor.training: the exact dropout fit against the fitting module, the
control-variate objective against finite differences and the exact objective, the data
splits, the L2 strength, the comparison records against direct recomputation, and the
summaries against hand-made records."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss as sk_log_loss
from test_penalty import problem  # the random design with an undropped intercept

from dropout_taylor import fitting, training
from dropout_taylor.penalty import exact_penalty
from dropout_taylor.training import (
    FitRecord,
    angle_degrees,
    dropout_objective_cv,
    fit_dropout_enumerated,
)


def test_enumerated_fit_matches_fitting_module():
    X, _, noisy = problem(21, 60, 4, 0.5)
    y = (np.random.default_rng(3).random(60) < 0.4).astype(float)
    ours = fit_dropout_enumerated(X, y, 0.4, noisy)
    theirs = fitting.fit_dropout_exact(X, y, 0.4, noisy)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    warm = fit_dropout_enumerated(X, y, 0.4, noisy, start=ours + 0.3)
    np.testing.assert_allclose(warm, theirs, atol=1e-6)
    with pytest.raises(ValueError, match="start"):
        fit_dropout_enumerated(X, y, 0.4, noisy, start=np.zeros(2))


def test_cv_objective_gradient_and_mean():
    X, beta, noisy = problem(22, 25, 5, 0.6)
    y = (np.random.default_rng(4).random(25) < 0.5).astype(float)
    f = dropout_objective_cv(X, y, 0.4, np.random.default_rng(1), 8, noisy)
    h = 1e-6
    fd = [
        (f(beta + h * e)[0] - f(beta - h * e)[0]) / (2 * h) for e in np.eye(len(beta))
    ]
    np.testing.assert_allclose(f(beta)[1], fd, rtol=1e-6, atol=1e-7)
    exact = fitting.logistic_loss(X, y, beta)[0] + exact_penalty(X, beta, 0.4, noisy)
    rngs = [np.random.default_rng(s) for s in range(300)]
    values = [dropout_objective_cv(X, y, 0.4, r, 8, noisy)(beta)[0] for r in rngs]
    assert abs(np.mean(values) - exact) < 3 * np.std(values, ddof=1) / np.sqrt(
        len(values)
    )


def test_angle_degrees():
    assert angle_degrees([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert angle_degrees([1.0, 0.0], [0.0, 3.0]) == pytest.approx(90.0)
    assert angle_degrees([1.0, 0.0], [1.0, 1e-9]) == pytest.approx(
        np.degrees(1e-9), rel=1e-6
    )


def test_log_loss_matches_scikit_learn():
    X, beta, _ = problem(5, 40, 3)
    y = (np.random.default_rng(6).random(40) < 0.5).astype(float)
    p = 1 / (1 + np.exp(-(X @ beta)))
    assert training.log_loss(X, y, beta) == pytest.approx(sk_log_loss(y, p), rel=1e-12)


def test_datasets_and_split():
    features, labels = training.load_dataset("breast cancer")
    assert features.shape == (569, 30) and set(np.unique(labels)) == {0.0, 1.0}
    digits, eights = training.load_dataset("digits: 8 vs rest")
    assert digits.shape == (1797, 64) and eights.sum() == 174
    split = training.train_test_design(features[:, :10], labels, seed=0)
    assert split.X_train.shape == (284, 11) and split.X_test.shape == (285, 11)
    assert not split.noisy[0] and split.noisy[1:].all()
    np.testing.assert_allclose(split.X_train[:, 1:].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(split.X_train[:, 1:].std(0), 1, rtol=1e-12)
    # stratified: the class balance of both halves matches the data's
    assert abs(split.y_train.mean() - labels.mean()) < 0.01
    with pytest.raises(ValueError, match="name"):
        training.load_dataset("iris")
    with pytest.raises(ValueError, match="test_fraction"):
        training.train_test_design(features, labels, 0, test_fraction=1.0)


def test_choose_l2_strength_picks_the_best_cross_validated_loss():
    split = training.train_test_design(*training.load_dataset("breast cancer"), seed=1)
    X, y, noisy = split.X_train[:, :6], split.y_train, split.noisy[:6]
    lams = np.array([1e-2, 1.0, 1e4])
    chosen = training.choose_l2_strength(X, y, noisy, lams, seed=1)
    assert chosen in lams and chosen != 1e4  # an enormous ridge cannot win on this data


def test_compare_fits_records_are_what_they_say():
    features, labels = training.load_dataset("breast cancer")
    split = training.train_test_design(features[:, :4], labels, seed=2)
    recs = training.compare_fits(split, 0.3, 1.0, np.random.default_rng(0))
    Xtr, ytr, noisy = split.X_train, split.y_train, split.noisy
    assert set(recs) == set(training.METHODS)
    for rec in recs.values():
        assert rec.penalty == pytest.approx(
            exact_penalty(Xtr, rec.beta, 0.3, noisy), rel=1e-12
        )
        assert rec.penalty_se == 0.0
        loss = fitting.logistic_loss(Xtr, ytr, rec.beta)[0]
        assert rec.objective == pytest.approx(loss + rec.penalty, rel=1e-12)
    assert recs["dropout"].angle_to_dropout == 0.0
    np.testing.assert_allclose(recs["l2"].beta, fitting.fit_l2(Xtr, ytr, 1.0, noisy))
    # the exact dropout fit minimises the exact dropout objective
    assert recs["dropout"].objective <= min(r.objective for r in recs.values()) + 1e-9


def _record(method, angle, penalty, rq, se=0.0):
    return FitRecord(method, np.zeros(2), 1.0, angle, penalty, se, rq, 0.0, 0.5, 0.9)


def _results():
    return {
        (seed, delta): {
            m: _record(m, angle=seed + delta, penalty=2.0 + seed, rq=1.0, se=0.5)
            for m in training.METHODS
        }
        for seed in (0, 1)
        for delta in (0.2, 0.5)
    }


def test_summaries_of_hand_made_records():
    res = _results()
    deltas, mean, sd = training.summarize(res, "quadratic", "angle_to_dropout")
    np.testing.assert_allclose(deltas, [0.2, 0.5])
    np.testing.assert_allclose(mean, [0.7, 1.0])
    np.testing.assert_allclose(sd, [np.std([0.2, 1.2], ddof=1)] * 2)
    _, ratio, _ = training.summarize(res, "l2", "penalty_ratio")
    np.testing.assert_allclose(ratio, [2.5, 2.5])
    values = training.summary_values(res, "t")
    assert values["t_dropout_test_accuracy_50"] == pytest.approx(90.0)
    assert values["t_l2_penalty_ratio_20"] == pytest.approx(2.5)
    table = training.format_table(res)
    assert len(table.splitlines()) == 1 + 3 * 2
    assert max(len(line) for line in table.splitlines()) <= 80
    assert training._plus_minus(37.31, 16.6) == "37.3±17"
    assert training._plus_minus(0.9041, 0.00064) == "0.904±0.0006"
    gaps = training.penalty_gaps([res, res], ("dropout", "l2"))
    np.testing.assert_allclose(np.sort(gaps), np.repeat([2.0, 4.0], 8))
    with pytest.raises(ValueError, match="methods"):
        training.penalty_gaps([res], ("ridge",))

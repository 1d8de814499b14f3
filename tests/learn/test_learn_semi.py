"""Semi-supervised learning: the shared self-training engine (hand-checked thresholds,
known labels kept), SelfTrainingClassifier on real Spambase, the CLI with empty labels."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from _weak_data import spambase
from truelabel._errors import InputError
from truelabel.cli import app
from truelabel.crossfit import dynamic_thresholds, self_train_proba
from truelabel.featurize import featurize_table
from truelabel.learn import RobustLogisticRegression
from truelabel.learn._calibrated import fit_for_calibration
from truelabel.learn._semi import SelfTrainingClassifier


def test_dynamic_thresholds_lower_the_bar_for_unsure_classes() -> None:
    # mean top probability tau = (0.9 + 0.8 + 0.7) / 3 = 0.8; class means 0.6, 0.4
    # -> T = tau * [0.6, 0.4] / 0.6 = [0.8, 0.5333]
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    np.testing.assert_allclose(dynamic_thresholds(p), [0.8, 0.53333], atol=1e-4)


def test_known_labels_always_train_and_are_predicted_out_of_fold() -> None:
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 1, (40, 2)), rng.normal(2, 1, (40, 2))].astype(np.float32)
    # a weak start on the unlabeled rows (as from a model fitted on 6 labels)
    p1 = 1 / (1 + np.exp(-0.3 * X[:, 0]))
    P = np.stack([1 - p1, p1], axis=1).astype(np.float32)
    lab = np.zeros(80, dtype=bool)
    lab[[0, 1, 2, 40, 41, 42]] = True
    P[lab] = np.eye(2)[[0, 0, 0, 1, 1, 1]]
    out, _ = self_train_proba(X, P, labeled=lab, select="dynamic", weighted=True)
    assert (out.argmax(1) == np.r_[np.zeros(40), np.ones(40)]).mean() > 0.95
    with pytest.raises(InputError, match="select must be one of"):
        self_train_proba(X, P, select="nope")


def test_self_training_on_spambase_beats_labeled_only() -> None:
    frame, y = spambase()
    test = np.random.default_rng(0).random(len(y)) < 0.3
    X, tab = featurize_table(frame[~test])
    Xte, ytr, yte = tab.transform(frame[test]), y[~test], y[test]
    lab = np.random.default_rng(1).random(len(ytr)) < 0.03  # ~97 labels
    alone = RobustLogisticRegression().fit(X[lab], ytr[lab])
    acc_alone = float((alone.predict(Xte) == yte).mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = SelfTrainingClassifier().fit(X, np.where(lab, ytr, -1), n_classes=2)
    acc = float((st.predict(Xte) == yte).mean())
    assert set(st.labeled_oof_accuracy_) == {"labeled_only", "with_pseudo_labels"}
    # the drift guard either accepts (then pseudo-labels were used) or keeps labeled-only
    assert st.accepted_ == bool(st.pseudo_mask_.any())
    assert acc >= acc_alone - 0.01


def test_self_trained_calibration_scores_are_out_of_fold() -> None:
    # real Spambase features with labels drawn at random: a model whose calibration
    # score for a row had seen that row's label (directly, or through pseudo-labels made
    # with it) would agree with it far above chance; out of fold it cannot
    frame, _ = spambase(n=1200)
    X, _ = featurize_table(frame)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    X_lab = np.hstack([X[:300], rng.normal(size=(300, 200)).astype(np.float32)])
    X_unl = np.hstack([X[300:], rng.normal(size=(900, 200)).astype(np.float32)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_for_calibration(
            X_lab, np.eye(2, dtype=np.float32)[y], X_unlabeled=X_unl, epochs=200
        )
    assert fit.mode == "crossfit" and fit.self_training is not None
    assert fit.noise_estimate is not None  # confident learning on the same scores
    np.testing.assert_array_equal(fit.cal_rows, np.arange(300))  # labeled rows only
    oof = float((fit.cal_probs.argmax(1) == y).mean())
    in_sample = float((fit.estimator.predict(X_lab) == y).mean())
    # measured: out of fold 0.48, in sample (the final model on its own labels) 1.00
    assert oof < 0.6 < 0.75 < in_sample


def test_drift_guard_scores_rows_its_pseudo_labels_never_saw() -> None:
    # random labels on real Spambase features plus noise columns: held-out accuracy must
    # stay near chance both with and without pseudo-labels. Before the fix the guard's
    # pseudo-labels were made with the held-out labels and it reported 0.60 -> 0.82.
    frame, _ = spambase(n=1200)
    X, _ = featurize_table(frame)
    rng = np.random.default_rng(0)
    Xr = np.hstack([X, rng.normal(size=(len(X), 200)).astype(np.float32)])
    y = np.full(len(Xr), -1)
    y[:300] = rng.integers(0, 2, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = SelfTrainingClassifier(random_state=0).fit(Xr, y, n_classes=2)
    scores = st.labeled_oof_accuracy_
    assert max(scores.values()) < 0.7, scores


def test_self_training_needs_two_labeled_classes() -> None:
    X = np.zeros((5, 2), dtype=np.float32)
    with pytest.raises(InputError, match="at least 2 classes"):
        SelfTrainingClassifier().fit(X, np.array([0, 0, -1, -1, -1]))


def test_cli_train_with_empty_labels_self_trains(tmp_path: Path) -> None:
    frame, y = spambase(n=1500)
    data = frame.copy()
    lab = np.random.default_rng(0).random(len(y)) < 0.2
    data.insert(0, "y", np.where(lab, np.where(y == 1, "spam", "ham"), ""))
    data.to_csv(tmp_path / "semi.csv", index=False)
    r = CliRunner().invoke(
        app,
        ["train", str(tmp_path / "semi.csv"), "--label-column", "y", "--feature-columns",
         "auto", "--out", str(tmp_path / "m")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["supervision"] == "semi-supervised"
    assert meta["training_data"]["n_unlabeled"] == int((~lab).sum())
    assert meta["classes"] == ["ham", "spam"]
    assert meta["conformal"]["alphas"]  # labeled held-out rows still calibrate the sets
    # calibrated on the labeled rows' cross-fitted scores only (never on pseudo-labels)
    assert meta["metrics"]["calibration_data"] == "crossfit"
    assert meta["metrics"]["n_calibration"] == meta["metrics"]["n_train"] == int(lab.sum())
    assert "drift guard: accuracy w/o → with pseudo-labels" in r.output
    r = CliRunner().invoke(
        app,
        ["train", str(tmp_path / "semi.csv"), "--label-column", "y", "--feature-columns",
         "auto", "--unlabeled", "drop", "--out", str(tmp_path / "d")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    meta = json.loads((tmp_path / "d" / "model.json").read_text())
    assert "semi_supervised" not in meta and meta["training_data"]["n_unlabeled"] == 0
    assert meta["training_data"]["n_rows_without_label_left_out"] == int((~lab).sum())
    assert "rows without a label, left out" in r.output

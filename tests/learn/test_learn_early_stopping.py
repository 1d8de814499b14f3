"""Early stopping on a held-out split of the (noisy) training labels."""

from __future__ import annotations

import numpy as np
import pytest
from test_learn_models import _acc, _problem

from truelabel import InputError
from truelabel.learn import RobustLogisticRegression, RobustMLPClassifier


def test_early_stopping_beats_a_memorising_run_at_40pct_flips() -> None:
    Xtr, ytr, Xte, yte = _problem(n_train=1200, d=30, seed=3)
    kw = {"epochs": 150, "batch_size": 64, "dropout": 0.0, "weight_decay": 0.0, "random_state": 0}
    full = RobustMLPClassifier(**kw).fit(Xtr, ytr)
    es = RobustMLPClassifier(early_stopping=True, n_iter_no_change=15, **kw).fit(Xtr, ytr)
    # the run without early stopping fits most noisy labels (memorises the flips)
    assert _acc(full, Xtr, ytr) > 0.85
    assert _acc(es, Xte, yte) > _acc(full, Xte, yte) + 0.03
    # it stopped before the budget, kept an earlier epoch, and recorded every epoch's score
    assert es.n_epochs_ < 150
    assert len(es.validation_scores_) == es.n_epochs_ == len(es.loss_curve_)
    assert es.best_epoch_ == int(np.argmax(es.validation_scores_)) + 1
    assert es.n_epochs_ - es.best_epoch_ == 15
    assert full.validation_scores_ == [] and full.best_epoch_ == full.n_epochs_ == 150


def test_early_stopping_is_deterministic_and_works_with_coteaching_and_soft_targets() -> None:
    Xtr, ytr, _, _ = _problem(n_train=400, seed=1)
    kw = {"epochs": 20, "early_stopping": True, "n_iter_no_change": 3, "random_state": 7}
    a = RobustMLPClassifier(scheme="coteach", forget_rate=0.3, **kw).fit(Xtr, ytr)
    b = RobustMLPClassifier(scheme="coteach", forget_rate=0.3, **kw).fit(Xtr, ytr)
    assert len(a.weights_) == 2
    for wa, wb in zip(a.weights_, b.weights_, strict=True):
        for name in wa:
            np.testing.assert_array_equal(wa[name], wb[name])
    soft = np.full((len(ytr), 4), 0.1, dtype=np.float64)
    soft[np.arange(len(ytr)), ytr] = 0.7
    m = RobustLogisticRegression(**kw).fit(Xtr, soft)
    assert 1 <= m.best_epoch_ <= m.n_epochs_ <= 20
    assert m.predict_proba(Xtr).shape == (len(ytr), 4)


def test_early_stopping_without_it_changes_nothing() -> None:
    Xtr, ytr, Xte, _ = _problem(n_train=300, seed=2)
    a = RobustLogisticRegression(epochs=5).fit(Xtr, ytr)
    b = RobustLogisticRegression(epochs=5, validation_fraction=0.3, n_iter_no_change=2).fit(
        Xtr, ytr
    )
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))


def test_early_stopping_bad_input() -> None:
    X = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    with pytest.raises(InputError, match="early_stopping holds out"):
        RobustLogisticRegression(early_stopping=True, validation_fraction=0.5).fit(X, [0, 1])
    Xtr, ytr, _, _ = _problem(n_train=100)
    with pytest.raises(InputError, match="validation_fraction"):
        RobustLogisticRegression(early_stopping=True, validation_fraction=1.0).fit(Xtr, ytr)
    with pytest.raises(InputError, match="n_iter_no_change"):
        RobustLogisticRegression(early_stopping=True, n_iter_no_change=0).fit(Xtr, ytr)

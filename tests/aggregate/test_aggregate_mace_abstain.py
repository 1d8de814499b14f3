"""MACE on labeling-function votes with abstaining modelled as an answer."""

from __future__ import annotations

import numpy as np

from truelabel.aggregate import aggregate_votes
from truelabel.sources._votes import votes_from_matrix


def _lf_matrix(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Five 85%-accurate labeling functions that abstain on 70% of 600 items."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 600)
    L = np.where(rng.random((600, 5)) < 0.85, y[:, None], 1 - y[:, None])
    L[rng.random((600, 5)) < 0.7] = -1
    return L, y


def test_mace_with_abstain_modelled_does_not_collapse() -> None:
    # abstentions used to count as spam: every LF became a spammer and the posterior
    # collapsed to one class (WRENCH youtube test accuracy 0.528)
    L, y = _lf_matrix()
    res = aggregate_votes(votes_from_matrix(L), method="mace", model_abstain=True, random_state=0)
    pred = res.posterior.argmax(axis=1)
    covered = (L >= 0).any(axis=1)
    assert len(np.unique(pred[covered])) == 2
    assert (pred[covered] == y[covered]).mean() > 0.8
    assert np.all(res.model.competence_ > 0.5)
    conf = np.asarray(res.model.confusion_)
    assert conf.shape == (5, 2, 3)
    np.testing.assert_allclose(conf.sum(axis=2), 1.0, atol=1e-5)


def test_mace_abstain_matches_plain_on_covered_votes() -> None:
    # class-independent abstaining carries no information: same labels as without it
    L, _ = _lf_matrix(1)
    v = votes_from_matrix(L)
    a = aggregate_votes(v, method="mace", model_abstain=True, random_state=0).posterior
    b = aggregate_votes(v, method="mace", model_abstain=False, random_state=0).posterior
    covered = (L >= 0).any(axis=1)
    assert (a[covered].argmax(1) == b[covered].argmax(1)).mean() > 0.95

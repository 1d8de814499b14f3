"""The review queue's sampling design: probabilities favour uncertain items, with a floor."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truelabel import InputError
from truelabel.review import inclusion_probabilities, sample_tasks


def test_hand_checked_probabilities() -> None:
    # s = [1, 0, 0, 0], floor 0.2, budget 2: w = 0.8*[1,0,0,0] + 0.05 = [0.85, .05, .05, .05]
    # 2*w = [1.7, .1, .1, .1] -> item 0 capped at 1; the other budget 1 spreads evenly: 1/3 each
    pi = inclusion_probabilities(np.array([1.0, 0, 0, 0]), 2, floor=0.2)
    np.testing.assert_allclose(pi, [1.0, 1 / 3, 1 / 3, 1 / 3])


@settings(deadline=None, max_examples=80)
@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=60),
    st.floats(0.05, 1.0),
    st.floats(0.01, 1.0),
)
def test_probabilities_sum_to_budget_and_respect_floor(
    prio: list[float], frac: float, floor: float
) -> None:
    s = np.array(prio)
    budget = max(frac * len(s), 1e-3)
    pi = inclusion_probabilities(s, budget, floor=floor)
    assert np.isclose(pi.sum(), budget, rtol=1e-6)
    assert (pi <= 1).all()
    assert (pi >= min(1.0, floor * budget / len(s)) - 1e-12).all()
    order = np.argsort(s)
    assert (np.diff(pi[order]) >= -1e-12).all()  # more uncertain -> at least as likely


def test_power_concentrates_the_budget() -> None:
    prio = np.linspace(0, 1, 100)
    flat = inclusion_probabilities(prio, 10, floor=0.1)
    sharp = inclusion_probabilities(prio, 10, floor=0.1, power=4)
    assert sharp[-1] > flat[-1] and sharp[0] <= flat[0] + 1e-12 and np.isclose(sharp.sum(), 10)
    with pytest.raises(InputError, match="power"):
        inclusion_probabilities(prio, 10, power=0)


def test_census_and_poisson_draw() -> None:
    prio = np.linspace(0, 1, 200)
    sel, pi = sample_tasks(prio)
    assert sel.all() and (pi == 1).all()
    sel, pi = sample_tasks(prio, design="poisson", budget=50, random_state=1)
    assert 30 < sel.sum() < 70
    assert sel[150:].mean() > sel[:50].mean()
    sel2, _ = sample_tasks(prio, design="poisson", budget=50, random_state=1)
    np.testing.assert_array_equal(sel, sel2)


def test_bad_design_inputs() -> None:
    with pytest.raises(InputError, match="needs --budget"):
        sample_tasks(np.ones(3), design="poisson")
    with pytest.raises(InputError, match="not one of"):
        sample_tasks(np.ones(3), design="topk")
    with pytest.raises(InputError, match=r"must be in \(0, 3\]"):
        inclusion_probabilities(np.ones(3), 5)
    with pytest.raises(InputError, match="floor"):
        inclusion_probabilities(np.ones(3), 2, floor=0)

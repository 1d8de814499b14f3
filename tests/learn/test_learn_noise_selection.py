"""The leave-one-dataset-out selection behind ``train``'s defaults
(``benchmarks/bench_train_noise.py``): a held-out group never sees its own numbers, groups
weigh equally however many settings they hold, and the overall choice is the lowest mean
loss over all groups."""

from __future__ import annotations

import sys

import pytest

from _shared import ROOT


@pytest.fixture(scope="module")
def bench():  # noqa: ANN201 - a benchmark module
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_train_noise

    return bench_train_noise


def _m(ece: float, cov90: float = 0.90, cov95: float = 0.95, acc: float = 0.8) -> dict:
    return {"ece": ece, "coverage_90": cov90, "coverage_95": cov95, "accuracy": acc}


def test_selection_loss_counts_each_target_in_its_tolerance(bench) -> None:  # noqa: ANN001
    assert bench.selection_loss(_m(0.03), 0.8) == pytest.approx(1.0)
    assert bench.selection_loss(_m(0.0, cov90=0.915), 0.8) == pytest.approx(1.0)
    assert bench.selection_loss(_m(0.0, cov95=0.935), 0.8) == pytest.approx(1.0)
    assert bench.selection_loss(_m(0.0, acc=0.775), 0.8) == pytest.approx(1.0)
    assert bench.selection_loss(_m(0.0, acc=0.9), 0.8) == 0.0  # above the best: no credit


def test_lodo_held_out_choice_comes_from_the_other_groups(bench) -> None:  # noqa: ANN001
    # "a" is better on groups g1, g2 (g2 with three settings); "b" only on g3, by a lot
    table = {
        ("s1", "noisy"): {"a": _m(0.01), "b": _m(0.05)},
        ("s2", "noisy"): {"a": _m(0.01), "b": _m(0.04)},
        ("s3", "noisy"): {"a": _m(0.01), "b": _m(0.04)},
        ("s4", "noisy"): {"a": _m(0.01), "b": _m(0.04)},
        ("s5", "noisy"): {"a": _m(0.30), "b": _m(0.00)},
        ("s5", "clean"): {"a": _m(0.30), "b": _m(0.00)},
    }
    groups = {"s1": "g1", "s2": "g2", "s3": "g2", "s4": "g2", "s5": "g3"}
    out = bench.lodo(table, groups)
    # mean loss per group: a = (1/3, 1/3, 10) -> 3.56; b = (5/3, 4/3, 0) -> 1.0
    assert out["overall"] == "b"
    assert dict(out["ranking"]) == pytest.approx({"a": 3.556, "b": 1.0}, abs=1e-3)
    # without g3, "a" wins, so g3 is scored with "a": its own numbers do not choose
    assert out["per_group_choice"] == {"g1": "b", "g2": "b", "g3": "a"}
    assert out["held_out"]["s5|noisy"]["choice"] == "a"
    assert out["held_out"]["s5|noisy"]["ece"] == 0.30
    # a candidate missing on one row does not compete
    table[("s1", "noisy")]["c"] = _m(0.0)
    assert bench.lodo(table, groups)["candidates"] == ["a", "b"]

"""Chunked confident learning equals the in-memory audit functions exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scale_helpers import noisy_probs

from truelabel import InputError
from truelabel.audit import compute_confident_joint, find_label_issues, get_label_quality
from truelabel.scale import (
    audit_probabilities,
    stream_confident_joint,
    stream_find_label_issues,
    stream_label_quality,
)

STRATEGIES = [
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
]


@pytest.mark.parametrize("filter_by", STRATEGIES)
@pytest.mark.parametrize("min_per_class", [1, 40])
def test_same_flags_as_in_memory(filter_by: str, min_per_class: int) -> None:
    labels, probs = noisy_probs(4000, 6, seed=1)
    expected = find_label_issues(
        labels, probs, filter_by=filter_by, min_examples_per_class=min_per_class
    )
    got = stream_find_label_issues(
        labels, probs, filter_by=filter_by, min_examples_per_class=min_per_class, chunk_rows=333
    )
    assert expected.sum() > 0
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("filter_by", ["prune_by_noise_rate", "prune_by_class"])
def test_frac_noise_and_memmap_input(tmp_path, filter_by: str) -> None:  # type: ignore[no-untyped-def]
    labels, probs = noisy_probs(3000, 4, seed=2)
    np.save(tmp_path / "p.npy", probs)
    np.save(tmp_path / "y.npy", labels)
    expected = find_label_issues(labels, probs, frac_noise=0.5, filter_by=filter_by)
    got = stream_find_label_issues(
        tmp_path / "y.npy", tmp_path / "p.npy", frac_noise=0.5, chunk_rows=500, filter_by=filter_by
    )
    np.testing.assert_array_equal(got, expected)


@settings(deadline=None, max_examples=15)
@given(
    n=st.integers(30, 400),
    k=st.integers(2, 5),
    chunk=st.integers(1, 120),
    seed=st.integers(0, 10_000),
)
def test_any_chunking_gives_the_same_flags(n: int, k: int, chunk: int, seed: int) -> None:
    labels, probs = noisy_probs(n, k, seed=seed, noise=0.3)
    np.testing.assert_array_equal(
        stream_find_label_issues(labels, probs, chunk_rows=chunk), find_label_issues(labels, probs)
    )
    np.testing.assert_array_equal(
        stream_confident_joint(labels, probs, chunk_rows=chunk),
        compute_confident_joint(labels, probs),
    )


@pytest.mark.parametrize(
    "method",
    [
        "self_confidence",
        "normalized_margin",
        "confidence_weighted_entropy",
        "adjusted_margin",
        "margin_x_confidence",
    ],
)
def test_streaming_scores_equal_in_memory(method: str) -> None:
    labels, probs = noisy_probs(2000, 5, seed=3)
    np.testing.assert_allclose(
        stream_label_quality(labels, probs, method=method, chunk_rows=301),
        get_label_quality(labels, probs, method=method),
        atol=1e-6,
    )


def test_audit_probabilities_summary_matches_noise_estimate() -> None:
    from truelabel.audit import estimate_noise_matrices

    labels, probs = noisy_probs(2500, 4, seed=4)
    res = audit_probabilities(labels, probs, chunk_rows=400)
    est = estimate_noise_matrices(labels, probs)
    np.testing.assert_array_equal(res.confident_joint, est.confident_joint)
    np.testing.assert_allclose(res.noise.noise_matrix, est.noise_matrix)
    assert res.n_chunks == 7
    np.testing.assert_array_equal(res.suggested_label, probs.argmax(axis=1))
    assert res.label_quality is not None and res.label_quality.dtype == np.float32


def test_max_memory_sets_chunk_size() -> None:
    labels, probs = noisy_probs(5000, 5, seed=5)
    small = audit_probabilities(labels, probs, max_memory="2MB", quality_method=None)
    assert small.n_chunks > 1
    np.testing.assert_array_equal(small.is_label_issue, find_label_issues(labels, probs))


def test_bad_inputs_name_the_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    labels, probs = noisy_probs(100, 3, seed=6)
    with pytest.raises(InputError, match="labels has length 99 but pred_probs has 100 rows"):
        stream_find_label_issues(labels[:99], probs)
    bad = probs.copy()
    bad[57, 0] += 0.5
    with pytest.raises(InputError, match=r"rows 50\.\.74: .*row 7 sums to"):
        stream_find_label_issues(labels, bad, chunk_rows=25)
    with pytest.raises(InputError, match="does not exist"):
        stream_find_label_issues(tmp_path / "nope.npy", probs)
    with pytest.raises(InputError, match="filter_by"):
        stream_find_label_issues(labels, probs, filter_by="nope")
    with pytest.raises(InputError, match="max_memory 'lots'"):
        stream_find_label_issues(labels, probs, max_memory="lots")
    with pytest.raises(InputError, match="unknown engine"):
        stream_find_label_issues(labels, probs, engine="spark")


def test_prune_counts_agree_with_audit() -> None:
    from truelabel.audit._filter import _prune_counts
    from truelabel.scale._confident import _prune_counts_from_joint

    labels, probs = noisy_probs(3000, 5, seed=7)
    cj = compute_confident_joint(labels, probs)
    for frac, mpc in [(1.0, 1), (0.3, 1), (1.0, 300)]:
        np.testing.assert_array_equal(
            _prune_counts_from_joint(cj, frac, mpc), _prune_counts(labels, probs, frac, mpc)
        )


def test_threshold_tolerance_matches_the_audit() -> None:
    # t0 = mean(0.9, 0.7) = 0.8; the last item (given 1) has p0 = 0.8 - 5e-7, which reaches
    # t0 only through the audit's 1e-6 tolerance: it must be counted in C[1, 0] both ways.
    labels = np.array([0, 0, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8], [0.1, 0.9], [0.8 - 5e-7, 0.2 + 5e-7]])
    expected = compute_confident_joint(labels, probs, calibrate=False)
    assert expected[1, 0] == 1
    np.testing.assert_array_equal(
        stream_confident_joint(labels, probs, calibrate=False, chunk_rows=2), expected
    )

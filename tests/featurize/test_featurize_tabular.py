"""Tabular featurizer: hand-checked encodings, the spec round trip, column resolution."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from truelabel._errors import InputError
from truelabel.featurize import TabularFeaturizer, featurize_table, resolve_feature_columns


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20, 40, np.nan, 60],  # mean of 20, 40, 60 = 40; std = 16.33
            "color": ["red", "blue", "red", None],
            "y": [0, 1, 0, 1],
        }
    )


def test_numeric_standardised_missing_indicated_and_categories_one_hot() -> None:
    X, tab = featurize_table(_frame(), "auto", exclude=["y"])
    assert tab.feature_names_ == [
        "age",
        "age=missing",
        "color=<missing>",
        "color=blue",
        "color=red",
    ]
    std = np.std([20.0, 40.0, 60.0])
    np.testing.assert_allclose(X[:, 0], [-20 / std, 0.0, 0.0, 20 / std], rtol=1e-6)
    np.testing.assert_array_equal(X[:, 1], [0, 0, 1, 0])  # the missing age is flagged
    np.testing.assert_array_equal(X[:, 2:], [[0, 0, 1], [0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert X.dtype == np.float32


def test_unseen_level_is_all_zeros_and_spec_round_trips_through_json() -> None:
    _, tab = featurize_table(_frame(), ["age", "color"])
    spec = json.loads(json.dumps(tab.to_spec()))
    again = TabularFeaturizer.from_spec(spec)
    new = pd.DataFrame({"age": ["40"], "color": ["green"]})  # text digits still parse
    np.testing.assert_allclose(again.transform(new), [[0.0, 0.0, 0.0, 0.0, 0.0]])


def test_numbers_with_stray_tokens_stay_numeric() -> None:
    f = pd.DataFrame({"n": [str(i) for i in range(40)] + ["?"]})
    _, tab = featurize_table(f)
    assert tab.spec_["encoders"][0]["kind"] == "numeric"
    assert tab.spec_["encoders"][0]["missing"]


def test_resolve_feature_columns_errors_name_the_columns() -> None:
    f = _frame()
    assert resolve_feature_columns(f, "auto", exclude=["y", None]) == ["age", "color"]
    with pytest.raises(InputError, match=r"\['size'\] not in the table"):
        resolve_feature_columns(f, "age,size")
    with pytest.raises(InputError, match="also the label/bag/id column"):
        resolve_feature_columns(f, "age,y", exclude=["y"])
    with pytest.raises(InputError, match="used at training are not in the table"):
        featurize_table(f, "age")[1].transform(f.drop(columns=["age"]))

"""The planner: one place decides featurizer and end model for the CLI, audit() and scale."""

from __future__ import annotations

import pytest

from truelabel._errors import InputError
from truelabel.crossfit import AUTO_CANDIDATES, DEFAULT_TIME_BUDGET, plan_model, resolve_learner


def test_auto_in_memory_searches_the_candidates_cheapest_first() -> None:
    plan = plan_model(n_rows=5_000)
    assert plan.select
    assert [c.name for c in plan.candidates] == [
        "tfidf+logistic",
        "static+logistic",
        "minilm+logistic",
    ]
    assert plan.candidates == AUTO_CANDIDATES
    assert plan.time_budget == DEFAULT_TIME_BUDGET
    assert plan.featurizer is None  # a search, not one featurizer


def test_auto_above_the_large_data_limit_is_one_fast_model() -> None:
    plan = plan_model(n_rows=200_001)
    assert not plan.select
    assert (plan.featurizer, plan.end_model) == ("static", "ridge")
    assert plan_model(n_rows=200_000).select  # the limit itself still searches


def test_an_explicit_featurizer_is_used_alone() -> None:
    plan = plan_model("tfidf", n_rows=100)
    assert not plan.select and (plan.featurizer, plan.end_model) == ("tfidf", "logistic")
    plan = plan_model("minilm", "ridge", n_rows=100)
    assert (plan.featurizer, plan.end_model) == ("minilm", "ridge")


def test_end_model_restricts_the_search() -> None:
    plan = plan_model(end_model="ridge", n_rows=100)
    # ridge needs dense features: TF-IDF is left out of the search
    assert [c.name for c in plan.candidates] == ["static+ridge", "minilm+ridge"]


def test_vectors_win_over_text() -> None:
    plan = plan_model(n_rows=100, has_vectors=True)
    assert (plan.featurizer, plan.end_model) == ("vectors", "logistic")


def test_given_probabilities_need_no_model() -> None:
    plan = plan_model(n_rows=25_000, pred_probs_given=True)
    assert plan.candidates == () and not plan.select
    # asking for the text checks embeds the texts with the cheap static model
    plan = plan_model(n_rows=25_000, pred_probs_given=True, text_checks=True)
    assert plan.featurizer == "static"
    plan = plan_model("minilm", n_rows=25_000, pred_probs_given=True, text_checks=True)
    assert plan.featurizer == "minilm"


def test_chunked_engines_use_a_corpus_independent_embedding() -> None:
    # the scale path used to resolve auto as if there were 0 rows; now the planner decides
    for engine in ("local", "dask"):
        plan = plan_model(n_rows=10, engine=engine)
        assert plan.featurizer == "static" and plan.end_model == "auto"
    assert plan_model("minilm", "incremental", n_rows=10, engine="dask").end_model == (
        "incremental"
    )
    # an explicit tfidf is allowed there (its vocabulary is fitted in a first pass)
    assert plan_model("tfidf", n_rows=10, engine="local").featurizer == "tfidf"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"featurizer": "bert"}, "unknown --featurizer 'bert'"),
        ({"end_model": "forest"}, "unknown --end-model 'forest'"),
        ({"end_model": "incremental"}, "unknown --end-model 'incremental'"),
        ({"engine": "spark"}, "unknown --engine 'spark'"),
        ({"featurizer": "tfidf", "end_model": "ridge"}, "ridge needs dense features"),
        ({"time_budget": -1}, "--time-budget must be >= 0"),
        ({"has_text": False}, "nothing to featurize"),
    ],
)
def test_bad_options_are_refused_with_the_fix(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        plan_model(n_rows=100, **kwargs)


def test_resolve_learner_follows_memory_and_rows() -> None:
    gib = 2**30
    assert resolve_learner("auto", n_rows=10_000, feature_bytes=gib // 8, memory_budget=gib) == (
        "logistic"
    )
    # features over a quarter of the budget, or too many rows: stream minibatches
    assert resolve_learner("auto", n_rows=10_000, feature_bytes=gib // 2, memory_budget=gib) == (
        "incremental"
    )
    assert resolve_learner("auto", n_rows=200_001, feature_bytes=1, memory_budget=gib) == (
        "incremental"
    )
    assert resolve_learner("logistic", n_rows=10**7, feature_bytes=gib, memory_budget=1) == (
        "logistic"
    )
    with pytest.raises(InputError, match="learner must be auto, logistic or incremental"):
        resolve_learner("sgd", n_rows=1, feature_bytes=1, memory_budget=1)


def test_describe_is_json_ready() -> None:
    import json

    d = plan_model(n_rows=100, time_budget=60).describe()
    assert json.loads(json.dumps(d))["candidates"][0] == "tfidf+logistic"
    assert d["time_budget_s"] == 60.0

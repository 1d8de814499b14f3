"""The planner: which featurizer(s) and end model(s) a run uses — the one place that decides.

The CLI, :func:`truelabel.audit` and the large-data audit (:func:`truelabel.scale.audit_large`)
all call :func:`plan_model`; nothing else resolves ``featurizer="auto"`` or
``end_model="auto"``.

In memory, ``auto`` is not a fixed model: it is a list of candidates (TF-IDF, the static
embedding and MiniLM, each with logistic regression) that :func:`select_model` cross-fits on
the data at hand, within a time budget, and combines with weights that minimise the
cross-fitted log-loss against the given labels (a stacked ensemble; a weight of 1 is a single
winner). On the bounded-memory or Dask engines the features are computed chunk by chunk, with
no candidate search: ``auto`` is the static embedding there (corpus-independent, one pass;
``tfidf`` needs an extra pass to fit its vocabulary), and the learner follows the memory budget.

The choices were made by leave-one-dataset-out on the real-noise suite
(``benchmarks/bench_real_noise.py``, see BENCHMARKS.md, "Audit defaults on real noise").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._errors import InputError
from ..featurize._api import LARGE_DATA_ROWS

__all__ = [
    "AUTO_CANDIDATES",
    "DEFAULT_TIME_BUDGET",
    "END_MODELS",
    "LARGE_DATA_ROWS",
    "Candidate",
    "ModelPlan",
    "plan_model",
    "resolve_learner",
]

# LARGE_DATA_ROWS (200,000): above it an in-memory ``auto`` uses one fast model (static +
# ridge) instead of cross-fitting several candidates; the large-data audit's learner too.

#: Seconds ``auto`` may spend on candidates after the first one (which always runs).
DEFAULT_TIME_BUDGET = 300.0

END_MODELS = ("auto", "logistic", "ridge")
_ENGINES = ("memory", "local", "dask")
_LEARNERS = ("auto", "logistic", "incremental")  # the end models of the chunked engines


@dataclass(frozen=True)
class Candidate:
    """One featurizer + end model pair that can be cross-fitted.

    Attributes
    ----------
    featurizer : {"tfidf", "static", "minilm", "vectors"}
    end_model : {"logistic", "ridge"}
    """

    featurizer: str
    end_model: str

    @property
    def name(self) -> str:
        return f"{self.featurizer}+{self.end_model}"


#: ``auto``'s candidates in memory, cheapest first (the first always runs).
AUTO_CANDIDATES: tuple[Candidate, ...] = (
    Candidate("tfidf", "logistic"),
    Candidate("static", "logistic"),
    Candidate("minilm", "logistic"),
)


@dataclass(frozen=True)
class ModelPlan:
    """What a run will cross-fit, decided before any work is done.

    Attributes
    ----------
    candidates : tuple of Candidate
        Cross-fitted in this order. Empty when the probabilities are given and no text
        checks were asked for (nothing to featurize).
    select : bool
        True: cross-fit every candidate that fits the time budget and combine them by
        cross-fitted log-loss (:func:`select_model`). False: the single candidate is used.
    time_budget : float
        Seconds allowed for candidates after the first.
    engine : str
        ``memory``, ``local`` or ``dask``.
    reason : str
        One sentence for ``summary.json``.
    """

    candidates: tuple[Candidate, ...]
    select: bool
    time_budget: float = DEFAULT_TIME_BUDGET
    engine: str = "memory"
    reason: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def featurizer(self) -> str | None:
        """The featurizer of a single-candidate plan (``None`` for none or a search)."""
        if len(self.candidates) == 1:
            return self.candidates[0].featurizer
        return None

    @property
    def end_model(self) -> str | None:
        if len(self.candidates) == 1:
            return self.candidates[0].end_model
        return None

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (``summary.json`` → ``settings.model_plan``)."""
        return {
            "candidates": [c.name for c in self.candidates],
            "select": self.select,
            "time_budget_s": self.time_budget,
            "engine": self.engine,
            "reason": self.reason,
        }


def _check(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputError(f"unknown {name} {value!r}; use one of {', '.join(allowed)}.")


def plan_model(
    featurizer: str = "auto",
    end_model: str = "auto",
    *,
    n_rows: int,
    engine: str = "memory",
    has_text: bool = True,
    has_vectors: bool = False,
    pred_probs_given: bool = False,
    text_checks: bool = False,
    time_budget: float | None = None,
) -> ModelPlan:
    """Decide the featurizer(s) and end model(s) of a run.

    Parameters
    ----------
    featurizer : {"auto", "tfidf", "static", "minilm", "vectors"}
        The user's choice; ``auto`` lets the data decide (see the module docstring).
    end_model : {"auto", "logistic", "ridge"}
        ``auto``: logistic regression, except ridge above :data:`LARGE_DATA_ROWS` rows. On the
        ``local``/``dask`` engines: ``auto``, ``logistic`` or ``incremental``, resolved by
        :func:`resolve_learner` once the feature size is known.
    n_rows : int
        Rows of the data (on Dask too: count them first).
    engine : {"memory", "local", "dask"}
    has_text, has_vectors : bool
        What the data offers as model input (vectors win over text).
    pred_probs_given : bool
        The user brought out-of-sample probabilities: nothing is cross-fitted; features are
        only computed when ``text_checks`` asks for neighbours, outliers and near-duplicates.
    text_checks : bool
        With given probabilities: compute features for the text checks.
    time_budget : float, optional
        Seconds for candidates after the first (default :data:`DEFAULT_TIME_BUDGET`).

    Returns
    -------
    ModelPlan
    """
    from ..featurize import FEATURIZERS  # the registry (plugins and tests add to it)

    _check("--featurizer", featurizer, ("auto", *FEATURIZERS, "vectors"))
    _check("--engine", engine, _ENGINES)
    _check("--end-model", end_model, END_MODELS if engine == "memory" else _LEARNERS)
    budget = DEFAULT_TIME_BUDGET if time_budget is None else float(time_budget)
    if budget < 0:
        raise InputError(f"--time-budget must be >= 0 seconds; got {time_budget!r}.")
    large = n_rows > LARGE_DATA_ROWS
    em = end_model
    if end_model == "auto" and engine == "memory":
        em = "ridge" if large else "logistic"

    def single(feat: str, why: str, model: str = em) -> ModelPlan:
        return ModelPlan((Candidate(feat, model),), False, budget, engine, why)

    if pred_probs_given and not text_checks:
        return ModelPlan((), False, budget, engine, "probabilities given: nothing to cross-fit")
    if has_vectors or featurizer == "vectors":
        return single("vectors", "your vectors")
    if not has_text:
        raise InputError(
            "nothing to featurize: pass --text-column, --vectors-column/--vectors-file, "
            "or --pred-probs."
        )
    if featurizer != "auto":
        # (tfidf on the chunked engines: one vocabulary fitted in a first pass over the chunks)
        if featurizer == "tfidf" and em == "ridge":
            raise InputError(
                "--end-model ridge needs dense features; use it with static, minilm or "
                "vectors, or use --end-model logistic with tfidf."
            )
        return single(featurizer, f"--featurizer {featurizer}")
    if pred_probs_given:
        # features only feed the neighbour, outlier and duplicate checks: the cheapest
        # embedding that captures wording is enough
        return single("static", "text checks beside given probabilities: static embedding")
    if engine != "memory":
        # chunked featurization: one corpus-independent embedding in one pass, no
        # candidate search at this scale
        return single("static", f"engine {engine}: static embedding, chunk by chunk")
    if large:
        return single("static", f"{n_rows:,} rows > {LARGE_DATA_ROWS:,}: static + ridge")
    if end_model != "auto":
        cands = tuple(Candidate(c.featurizer, em) for c in AUTO_CANDIDATES)
        if em == "ridge":
            cands = tuple(c for c in cands if c.featurizer != "tfidf")
    else:
        cands = AUTO_CANDIDATES
    return ModelPlan(
        cands,
        True,
        budget,
        engine,
        "auto: candidates cross-fitted within the time budget, combined by cross-fitted "
        "log-loss against the given labels",
    )


def resolve_learner(learner: str, *, n_rows: int, feature_bytes: int, memory_budget: int) -> str:
    """The large-data audit's learner: ``auto`` → ``logistic`` (in-memory fold copies) when
    the features take at most a quarter of the memory budget and there are at most
    :data:`LARGE_DATA_ROWS` rows, else ``incremental`` (minibatches over feature chunks)."""
    if learner not in ("auto", "logistic", "incremental"):
        raise InputError(f"learner must be auto, logistic or incremental; got {learner!r}.")
    if learner != "auto":
        return learner
    fits = feature_bytes * 4 <= memory_budget and n_rows <= LARGE_DATA_ROWS
    return "logistic" if fits else "incremental"

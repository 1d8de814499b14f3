"""LLM labelers: any OpenAI-compatible chat-completions endpoint as a source of votes.

A prompt (a Jinja2 template) lists the classes with their descriptions and ``k`` few-shot
examples chosen by embedding similarity from gold items. The answer is constrained to
the class list with a JSON schema when the server supports it, and matched strictly
otherwise; an answer that names no class is an *abstain* (counted, no vote). Confidence
comes from token log-probabilities when the server returns them, else from agreement
over ``n_samples`` samples.

Every call goes through a SQLite cache keyed by (model, prompt, parameters): a re-run is
free and a crashed run resumes. Calls run with bounded concurrency, retry on
timeouts/429/5xx, and stop cleanly at a budget (calls or tokens) or when the endpoint
keeps failing — answers already paid for are never lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import InputError, ServiceError
from .._progress import progress as progress_step
from .._validation import Interval, Options, check_params
from ..report import ReportMixin
from ._llm_answers import (
    match_labels,
    parse_json_answer,
    repair_spans,
    salvage_spans,
    spans_of_answer,
)
from ._llm_cache import LLMCache, request_key
from ._llm_client import CallOutcome, ChatClient, FatalEndpointError, UnsupportedParameter
from ._zeroshot_classes import ClassSpec, parse_classes

__all__ = [
    "LLMLabeler",
    "LLMResult",
    "answer_token_limit",
    "label_with_llm",
    "match_label",
    "nearest_examples",
    "render_prompt",
]

logger = logging.getLogger(__name__)

_TEMPLATES = Path(__file__).with_name("templates")
SYSTEM_PROMPT = (
    "You are a careful annotator. You classify texts into one of a fixed set of "
    "categories and answer with the category name only."
)
#: What the LLM is asked, per task: (default template, system prompt).
LLM_TASKS: dict[str, tuple[str, str]] = {
    "classification": ("label", SYSTEM_PROMPT),
    "multilabel": (
        "label_multi",
        "You are a careful annotator. You tag texts with every category of a fixed set "
        "that applies and answer with a JSON list of category names only.",
    ),
    "token": (
        "label_spans",
        "You are a careful annotator. You find named entities in texts and answer with "
        "JSON only, copying each entity exactly as written in the text.",
    ),
}
#: Default completion tokens of a span answer (``--llm-max-tokens`` raises it).
SPAN_MAX_TOKENS = 256


# ---------------------------------------------------------------------------- prompts
def _load_template(template: str | Path | None, default: str = "label") -> tuple[Any, str]:
    """A Jinja2 template object and its name (file stem or ``inline``)."""
    import jinja2

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False
    )
    if template is None:
        p = _TEMPLATES / f"{default}.j2"
        return env.from_string(p.read_text(encoding="utf-8")), default
    p = Path(str(template))
    if len(str(template)) < 4096 and p.suffix in (".j2", ".jinja", ".txt") and p.is_file():
        return env.from_string(p.read_text(encoding="utf-8")), p.stem
    if str(template).endswith((".j2", ".jinja")) and not p.is_file():
        raise InputError(f"prompt template {template} not found; check the path.")
    return env.from_string(str(template)), "inline"


def render_prompt(
    template: Any,
    *,
    text: str,
    classes: Sequence[ClassSpec],
    examples: Sequence[tuple[str, str]] = (),
    json_output: bool = False,
) -> str:
    """Render the user prompt for one item.

    Template variables: ``text``, ``classes`` (objects with ``name``, ``description``,
    ``keywords``, ``examples``), ``examples`` (objects with ``text`` and ``label``) and
    ``json_output`` (whether a JSON answer is requested).
    """
    import jinja2

    tpl = template if hasattr(template, "render") else _load_template(template)[0]
    try:
        return str(
            tpl.render(
                text=text,
                classes=classes,
                examples=[{"text": t, "label": lab} for t, lab in examples],
                json_output=json_output,
            )
        ).strip()
    except jinja2.TemplateError as exc:
        raise InputError(
            f"prompt template failed to render ({exc}); it may use the variables text, "
            "classes, examples and json_output."
        ) from None


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.strip().strip("`'\".,;:!*[]()").strip()).casefold()


def match_label(answer: str | None, classes: Sequence[str]) -> str | None:
    """Map a raw answer to a class name, strictly; ``None`` = abstain.

    Accepted: a JSON object with a ``label`` (or ``category``) field naming a class; the
    class name alone (case, surrounding quotes, punctuation and whitespace ignored);
    ``Category: <name>``. Anything else — another word, two classes — abstains.
    """
    if answer is None:
        return None
    text = answer.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    index = {_norm(c): c for c in classes}
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            val = obj.get("label", obj.get("category"))
            return index.get(_norm(str(val))) if val is not None else None
    first = text.splitlines()[0] if text else ""
    for cand in (text, first, re.sub(r"^(category|label|answer)\s*:\s*", "", first, flags=re.I)):
        hit = index.get(_norm(cand))
        if hit is not None:
            return hit
    return None


def _logprob_confidence(
    response: dict[str, Any], label: str, classes: Sequence[str]
) -> float | None:
    """Confidence of ``label`` from the token log-probabilities at the answer's first token.

    The alternatives in ``top_logprobs`` at the token where the label starts are mapped to
    the classes whose names they begin; the chosen class's share of that mass is the
    confidence. ``None`` when the server returned no log-probabilities.
    """
    try:
        choice = response["choices"][0]
        content = choice["message"]["content"] or ""
        tokens = choice["logprobs"]["content"]
    except (KeyError, TypeError, IndexError):
        return None
    if not tokens:
        return None
    pos = content.casefold().find(label.casefold())
    if pos < 0:
        return None
    offset = 0
    for tok in tokens:
        t = str(tok.get("token", ""))
        if offset + len(t) > pos:
            break
        offset += len(t)
    else:
        return None
    alts = tok.get("top_logprobs") or [tok]
    mass: dict[str, float] = {}
    for alt in alts:
        piece = str(alt.get("token", "")).strip().casefold()
        lp = alt.get("logprob")
        if not piece or not isinstance(lp, int | float):
            continue
        for c in classes:
            if c.casefold().startswith(piece):
                mass[c] = mass.get(c, 0.0) + math.exp(float(lp))
    total = sum(mass.values())
    if total <= 0 or label not in mass:
        lp = tok.get("logprob")
        return float(math.exp(lp)) if isinstance(lp, int | float) else None
    return float(mass[label] / total)


def nearest_examples(Xq: Any, Xg: Any, k: int) -> np.ndarray:
    """Indices of the ``k`` gold items most similar (cosine) to each query, shape (N, k)."""
    import scipy.sparse as sp

    from ._zeroshot import _row_normalize_any

    k = min(k, Xg.shape[0])
    if k == 0:
        return np.zeros((Xq.shape[0], 0), dtype=np.int64)
    S = _row_normalize_any(Xq) @ _row_normalize_any(Xg).T
    S = np.asarray(S.toarray() if sp.issparse(S) else S)
    idx = np.argpartition(-S, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(S, idx, axis=1), axis=1)
    return np.take_along_axis(idx, order, axis=1)


def answer_token_limit(
    classes: Sequence[str], *, margin: int = 16, task: str = "classification"
) -> int:
    """Completion tokens that always fit the longest answer the prompt asks for.

    The answer schema is ``{"label": "<class>"}``; a byte-level BPE token covers at least
    one byte, so the UTF-8 length of that object with the longest class name bounds its
    tokens whatever the tokenizer. ``margin`` leaves room for whitespace, a code fence or
    an end-of-turn token. A cap only limits a rambling answer: a model that stops after
    the label is billed for the tokens it wrote, not for the cap.

    Parameters
    ----------
    classes : sequence of str
    margin : int
    task : {"classification", "multilabel", "token"}
        ``multilabel``: room for ``{"labels": [every class]}``; ``token``:
        :data:`SPAN_MAX_TOKENS` (spans depend on the text, not on the entity types).

    Returns
    -------
    int
    """
    if task == "token":
        return SPAN_MAX_TOKENS
    if task == "multilabel":
        both = json.dumps({"labels": [str(c) for c in classes]}, ensure_ascii=False)
        return len(both.encode("utf-8")) + margin
    longest = max((str(c) for c in classes), key=lambda c: len(c.encode("utf-8")), default="")
    return len(json.dumps({"label": longest}, ensure_ascii=False).encode("utf-8")) + margin


def _answer_schema(classes: Sequence[str], task: str) -> dict[str, Any]:
    """JSON schema of a multi-label (``{"labels": [...]}``) or span answer."""
    if task == "multilabel":
        return {
            "type": "object",
            "properties": {
                "labels": {
                    "type": "array",
                    "items": {"type": "string", "enum": list(classes)},
                    "maxItems": len(classes),
                }
            },
            "required": ["labels"],
            "additionalProperties": False,
        }
    span = {
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            "label": {"type": "string", "enum": list(classes)},
            "start": {"type": "integer"},
        },
        "required": ["text", "label", "start"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"entities": {"type": "array", "items": span}},
        "required": ["entities"],
        "additionalProperties": False,
    }


def parse_answer(
    content: str | None, classes: Sequence[str], task: str, text: str = ""
) -> tuple[str | None, dict[str, int]]:
    """Read one answer for ``task``; ``(label, counts)``, label ``None`` = abstain.

    ``classification``: the class name (:func:`match_label`). ``multilabel``: a JSON list
    of the matched classes (:func:`match_labels`). ``token``: a JSON list of the kept
    spans ``{"start", "end", "label", "text"}`` (:func:`repair_spans` against ``text``).
    ``counts`` holds what was repaired or rejected.
    """
    if task == "classification":
        return match_label(content, classes), {}
    if task == "multilabel":
        tags, n_rep, n_rej = match_labels(content, classes)
        counts = {"n_tags_repaired": n_rep, "n_tags_rejected": n_rej}
        return (None if tags is None else json.dumps(tags, ensure_ascii=False)), counts
    spans = spans_of_answer(parse_json_answer(content))
    salvaged = spans is None
    if spans is None:  # broken JSON (often cut off at max_tokens): its complete spans
        spans = salvage_spans(content)
    if spans is None:
        return None, {}
    chk = repair_spans(text, spans, classes)
    counts = {
        "n_answers_salvaged": int(salvaged),
        "n_spans_given": chk.n_given,
        "n_spans_exact": chk.n_exact,
        "n_spans_repaired": chk.n_repaired,
        **{f"n_spans_rejected_{k}": v for k, v in chk.rejected.items()},
    }
    return json.dumps(chk.to_records(), ensure_ascii=False), counts


# ---------------------------------------------------------------------------- result
@dataclass(repr=False)
class LLMResult(ReportMixin):
    """What :meth:`LLMLabeler.label` produced.

    Attributes
    ----------
    votes : DataFrame
        ``item_id, source, label, confidence`` — one row per item with an answer in the
        class list (abstains have no row). ``confidence`` is 1.0 when neither
        log-probabilities nor several samples were available.
    answers : DataFrame
        One row per (item, sample): ``item_id, sample, raw, label, confidence, cached,
        error, truncated``; ``label`` is None for abstains, failures and budget skips;
        ``truncated`` marks an answer the server cut off at ``max_tokens``.
    stats : dict
        Calls made, cache hits, abstains (``n_truncated`` of them cut off at
        ``max_tokens``), failures, skipped (budget), tokens, cost, the ``max_tokens``
        used, why the run stopped early (``stopped``), cache rebuild notice, seconds.
    source : str
        The source name of the votes (``llm:<model>:<prompt>``).
    """

    votes: Any
    answers: Any
    stats: dict[str, Any]
    source: str

    def __repr__(self) -> str:
        st = self.stats
        return (
            f"LLMResult(source={self.source!r}, n_items={st.get('n_items')}, "
            f"n_votes={st.get('n_votes')}, n_abstain={st.get('n_abstain')}, "
            f"n_truncated={st.get('n_truncated', 0)}, n_failed={st.get('n_failed')})"
        )

    def _render_report(self) -> str:
        from ._report import render_llm_report

        return render_llm_report(self)

    def _repr_facts(self) -> list[tuple[str, Any]]:
        st = self.stats
        keys = ("n_items", "n_votes", "n_abstain", "n_truncated", "n_failed", "n_skipped")
        facts: list[tuple[str, Any]] = [("source", self.source)]
        facts += [(k.removeprefix("n_").replace("_", " "), st.get(k, 0)) for k in keys]
        facts += [("paid calls", st.get("n_calls")), ("cache hits", st.get("n_cache_hits"))]
        return facts

    def _repr_frame(self) -> tuple[str, Any]:
        return "votes", self.votes


@dataclass
class _Run:
    """Mutable counters shared by the worker threads (under ``lock``)."""

    max_calls: int | None
    max_tokens: int | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: int = 0
    tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    consecutive_failures: int = 0
    stopped: str | None = None
    unsupported: set[str] = field(default_factory=set)

    def reserve(self) -> bool:
        with self.lock:
            if self.stopped is not None:
                return False
            if self.max_calls is not None and self.calls >= self.max_calls:
                self.stopped = f"budget: max_calls={self.max_calls} reached"
                return False
            if self.max_tokens is not None and self.tokens >= self.max_tokens:
                self.stopped = f"budget: max_tokens={self.max_tokens} reached"
                return False
            self.calls += 1
            return True


class LLMLabeler:
    """Label texts with an LLM behind an OpenAI-compatible chat-completions endpoint.

    Parameters
    ----------
    base_url : str
        Endpoint root, e.g. ``http://127.0.0.1:8080/v1`` or ``https://api.openai.com/v1``.
    model : str
        Model name sent in each request.
    api_key_env : str, optional
        Name of the environment variable holding the API key (never the key itself).
    template : str or path, optional
        Jinja2 prompt template (file or string); default ``templates/label.j2``.
    n_shots : int
        Few-shot examples per prompt, the gold items most similar to the item.
    n_samples : int
        Answers per item; with ``> 1`` the confidence is the agreement of the samples
        (use ``temperature > 0``).
    temperature : float
    max_tokens : int, optional
        Completion tokens per call; default (``None``) :func:`answer_token_limit` of the
        class list, room for the longest class name in the JSON answer. An answer cut off
        at this limit is counted as truncated (``stats["n_truncated"]``).
    structured : {"auto", "json_schema", "none"}
        Constrain the answer with a JSON schema (``auto`` falls back to plain text when
        the server refuses it).
    logprobs : bool
        Ask for token log-probabilities (confidence); dropped if the server refuses.
    cache_path : path or None
        SQLite cache file; default ``$TRUELABEL_CACHE_DIR/llm.sqlite``; ``":memory:"`` for none.
    max_calls, max_total_tokens : int, optional
        Budget; the run stops cleanly when reached (cache hits are free). 0 = cache only.
    concurrency : int
        Parallel requests.
    timeout, max_retries, backoff : request settings.
    max_consecutive_failures : int
        Stop the run (keeping every answer so far) after this many failed calls in a row.
    price_per_million_input, price_per_million_output : float
        For the cost summary.
    featurizer : str
        Embeddings for choosing few-shot examples.
    """

    _constraints = {
        "n_shots": [Interval(int, 0, None)],
        "n_samples": [Interval(int, 1, None)],
        "temperature": [Interval(float, 0, 2)],
        "max_tokens": [Interval(int, 1, None), None],
        "structured": [Options(("auto", "json_schema", "none"))],
        "logprobs": ["boolean"],
        "max_calls": [Interval(int, 0, None), None],
        "max_total_tokens": [Interval(int, 0, None), None],
        "concurrency": [Interval(int, 1, 256)],
        "timeout": [Interval(float, 0, None, closed="neither")],
        "max_retries": [Interval(int, 0, None)],
        "backoff": [Interval(float, 0, None)],
        "max_consecutive_failures": [Interval(int, 1, None)],
    }

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str | None = None,
        template: str | Path | None = None,
        n_shots: int = 0,
        n_samples: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        structured: str = "auto",
        logprobs: bool = True,
        cache_path: str | Path | None = None,
        max_calls: int | None = None,
        max_total_tokens: int | None = None,
        concurrency: int = 4,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_consecutive_failures: int = 20,
        price_per_million_input: float = 0.0,
        price_per_million_output: float = 0.0,
        featurizer: str = "auto",
        transport: Any = None,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.api_key_env = api_key_env
        self.template = template
        self.n_shots = n_shots
        self.n_samples = n_samples
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.structured = structured
        self.logprobs = logprobs
        self.cache_path = cache_path
        self.max_calls = max_calls
        self.max_total_tokens = max_total_tokens
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_consecutive_failures = max_consecutive_failures
        self.price_per_million_input = price_per_million_input
        self.price_per_million_output = price_per_million_output
        self.featurizer = featurizer
        self.transport = transport

    # ------------------------------------------------------------------ helpers
    def _api_key(self) -> str | None:
        if not self.api_key_env:
            return None
        key = os.environ.get(self.api_key_env)
        if not key:
            raise InputError(
                f"environment variable {self.api_key_env} (from --llm-api-key-env) is not set "
                "or empty; export it with the API key, or leave the option out for a local "
                "server without authentication."
            )
        return key

    def _cache(self) -> LLMCache:
        if self.cache_path is not None:
            return LLMCache(self.cache_path)
        from ..featurize import cache_dir

        return LLMCache(cache_dir() / "llm.sqlite")

    def _params(
        self,
        classes: Sequence[str],
        sample: int,
        structured: bool,
        logprobs: bool,
        task: str = "classification",
    ) -> dict[str, Any]:
        limit = (
            self.max_tokens
            if self.max_tokens is not None
            else answer_token_limit(classes, task=task)
        )
        params: dict[str, Any] = {"temperature": self.temperature, "max_tokens": limit}
        if self.n_samples > 1:
            params["seed"] = sample
        if structured and task != "classification":
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": task,
                    "strict": True,
                    "schema": _answer_schema(classes, task),
                },
            }
        elif structured:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "label",
                    "strict": True,
                    "schema": {
                        "type": "object",
                        "properties": {"label": {"type": "string", "enum": list(classes)}},
                        "required": ["label"],
                        "additionalProperties": False,
                    },
                },
            }
        if logprobs and task == "classification":
            params["logprobs"] = True
            params["top_logprobs"] = 5
        return params

    def _variants(self) -> list[tuple[bool, bool]]:
        s = [True, False] if self.structured in ("auto", "json_schema") else [False]
        lp = [True, False] if self.logprobs else [False]
        return [(a, b) for a in s for b in lp]

    def _few_shot(
        self, texts: list[str], gold_texts: list[str], gold_labels: list[str]
    ) -> list[list[tuple[str, str]]]:
        if self.n_shots == 0 or not gold_texts:
            return [[] for _ in texts]
        from ..featurize import featurize, resolve_featurizer

        method = resolve_featurizer(self.featurizer, len(texts))
        if method == "tfidf":
            both = featurize(texts + gold_texts, method="tfidf")
            Xq, Xg = both[: len(texts)], both[len(texts) :]
        else:
            Xq, Xg = featurize(texts, method=method), featurize(gold_texts, method=method)
        nn = nearest_examples(Xq, Xg, self.n_shots)
        return [[(gold_texts[j], gold_labels[j]) for j in row] for row in nn.tolist()]

    # ------------------------------------------------------------------ main
    def label(
        self,
        texts: Sequence[str],
        classes: Any,
        *,
        item_ids: Sequence[Any] | None = None,
        gold_texts: Sequence[str] = (),
        gold_labels: Sequence[str] = (),
        progress: Callable[[int, int], None] | None = None,
        task: str = "classification",
        label_sep: str = ",",
    ) -> LLMResult:
        """Ask the LLM for a label for each text (through the cache).

        Parameters
        ----------
        texts : sequence of str, length N
        classes : class list (names, dicts or ClassSpec; see ``parse_classes``)
        item_ids : sequence, length N, optional
            Ids for the votes (default ``0..N-1``).
        gold_texts, gold_labels : sequences, optional
            Labeled items the few-shot examples are drawn from.
        progress : callable, optional
            ``progress(done, total)`` after each answer.
        task : {"classification", "multilabel", "token"}
            ``multilabel``: the answer is a JSON list of classes (see
            :func:`~truelabel.sources._llm_answers.match_labels`); a vote's ``label`` is
            the tags joined with ``label_sep``. ``token``: ``classes`` are the entity
            types, the answer JSON spans checked against the text (see
            :func:`~truelabel.sources._llm_answers.repair_spans`); the votes are a span
            table ``item_id, source, start, end, label, text`` with one row without
            offsets for an item answered with no entity. Both take one sample per item
            and no log-probabilities.
        label_sep : str
            ``multilabel``: separator of the joined tags (and of the gold labels).

        Returns
        -------
        LLMResult

        Raises
        ------
        ServiceError
            The endpoint failed (down, refusing, or fatal HTTP status) before a single
            answer was obtained.
        """
        import pandas as pd

        check_params(self)
        if task not in LLM_TASKS:
            raise InputError(f"unknown LLM task {task!r}; use one of {', '.join(LLM_TASKS)}.")
        if task != "classification" and self.n_samples > 1:
            raise InputError(
                f"--llm-samples {self.n_samples}: {task} labels take one answer per item; "
                "leave --llm-samples out."
            )
        if task == "token" and (self.n_shots or len(gold_texts)):
            raise InputError(
                "few-shot examples (--llm-shots, --label-column) are not available for entity "
                "spans; leave them out."
            )
        specs = parse_classes(classes)
        names = [c.name for c in specs]
        if task == "multilabel":
            bad_sep = [c for c in names if label_sep in c]
            if bad_sep:
                raise InputError(
                    f"class {bad_sep[0]!r} contains the tag separator {label_sep!r}; rename it "
                    "or pass another --label-sep."
                )
            gold_labels = [
                ", ".join(t.strip() for t in str(g).split(label_sep) if t.strip())
                for g in gold_labels
            ]
            gold_check = {t.strip() for g in gold_labels for t in g.split(",") if t.strip()}
        else:
            gold_check = {str(g) for g in gold_labels}
        texts = [str(t) for t in texts]
        ids = list(range(len(texts))) if item_ids is None else list(item_ids)
        if len(ids) != len(texts):
            raise InputError(f"item_ids has {len(ids)} entries for {len(texts)} texts.")
        if len(gold_texts) != len(gold_labels):
            raise InputError("gold_texts and gold_labels must have the same length.")
        bad_gold = sorted(gold_check - set(names))
        if bad_gold:
            raise InputError(
                f"gold labels {bad_gold[:5]} are not in the class list {names[:8]}; fix them."
            )
        tpl, tpl_name = _load_template(self.template, LLM_TASKS[task][0])
        system_prompt = LLM_TASKS[task][1]
        api_key = self._api_key()
        shots = self._few_shot(texts, [str(t) for t in gold_texts], [str(g) for g in gold_labels])
        json_output = self.structured in ("auto", "json_schema")
        prompts = [
            render_prompt(tpl, text=t, classes=specs, examples=ex, json_output=json_output)
            for t, ex in zip(texts, shots, strict=True)
        ]
        tpl_hash = hashlib.sha256(
            (getattr(tpl, "filename", None) or tpl_name).encode()
            + render_prompt(tpl, text="", classes=specs, json_output=json_output).encode()
        ).hexdigest()[:8]
        source = f"llm:{self.model}:{tpl_name}-{tpl_hash}"

        cache = self._cache()
        client = ChatClient(
            self.base_url,
            api_key=api_key,
            timeout=self.timeout,
            max_retries=self.max_retries,
            backoff=self.backoff,
            transport=self.transport,
        )
        run = _Run(max_calls=self.max_calls, max_tokens=self.max_total_tokens)
        if self.structured == "none":
            run.unsupported.add("response_format")
        if not self.logprobs:
            run.unsupported.add("logprobs")
        units = [(i, s) for i in range(len(texts)) for s in range(self.n_samples)]
        rows: list[dict[str, Any]] = [dict() for _ in units]
        done = [0]
        done_lock = threading.Lock()
        t0 = time.perf_counter()

        def messages_for(i: int) -> list[dict[str, str]]:
            return [
                {"role": "system", "content": system_prompt},
                {"role": "user", "content": prompts[i]},
            ]

        def lookup(i: int, s: int) -> dict[str, Any] | None:
            msgs = messages_for(i)
            for st, lp in self._variants():
                hit = cache.get(request_key(self.model, msgs, self._params(names, s, st, lp, task)))
                if hit is not None:
                    return hit
            return None

        def work(u: int) -> None:
            i, s = units[u]
            row: dict[str, Any] = {
                "item_id": ids[i],
                "sample": s,
                "raw": None,
                "label": None,
                "confidence": np.nan,
                "cached": False,
                "error": None,
                "truncated": False,
            }
            resp = lookup(i, s)
            if resp is not None:
                row["cached"] = True
            else:
                resp, err = self._call(client, cache, run, messages_for(i), names, s, task)
                row["error"] = err
            if resp is not None:
                choice = resp["choices"][0]
                content = choice["message"].get("content")
                row["raw"] = content
                row["truncated"] = choice.get("finish_reason") == "length"
                lab, counts = parse_answer(content, names, task, texts[i])
                row["label"] = lab
                row.update(counts)
                if lab is not None and task == "classification":
                    conf = _logprob_confidence(resp, lab, names)
                    row["confidence"] = np.nan if conf is None else conf
            rows[u] = row
            with done_lock:
                done[0] += 1
                n_done = done[0]
            with run.lock:
                spent = f"spent {run.calls:,} calls, {run.tokens:,} tokens"
            tick(1, note=spent)
            if progress is not None:
                progress(n_done, len(units))

        steps = ExitStack()  # closed in the finally below, with the client and the cache
        tick = steps.enter_context(progress_step("LLM answers", total=len(units), unit="answers"))
        try:
            if self.concurrency == 1:
                for u in range(len(units)):
                    work(u)
            else:
                with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                    futures = [pool.submit(work, u) for u in range(len(units))]
                    try:
                        for f in futures:
                            f.result()
                    except BaseException:
                        with run.lock:
                            run.stopped = run.stopped or "interrupted"
                        pool.shutdown(wait=True, cancel_futures=True)
                        raise
        finally:
            steps.close()
            client.close()
            rebuilt = cache.rebuilt
            cache.close()

        base_cols = [
            "item_id",
            "sample",
            "raw",
            "label",
            "confidence",
            "cached",
            "error",
            "truncated",
        ]
        answers = pd.DataFrame([r for r in rows if r])
        count_cols = [c for c in answers.columns if c not in base_cols]
        answers = answers.reindex(columns=base_cols + count_cols)
        answers[count_cols] = answers[count_cols].fillna(0).astype(np.int64)
        if task == "multilabel":
            votes = _multilabel_votes(answers, source, label_sep)
        elif task == "token":
            votes = _span_votes(answers, source)
        else:
            votes = self._votes(answers, source)
        n_abstain = int((answers["raw"].notna() & answers["label"].isna()).sum())
        truncated = answers["truncated"].fillna(False).astype(bool)
        n_truncated = int((truncated & answers["label"].isna()).sum())
        n_failed = int(answers["error"].notna().sum())
        n_skipped = int((answers["raw"].isna() & answers["error"].isna()).sum())
        cost = (
            run.prompt_tokens * self.price_per_million_input
            + run.completion_tokens * self.price_per_million_output
        ) / 1e6
        stats = {
            "source": source,
            "model": self.model,
            "task": task,
            "n_items": len(texts),
            "n_requests": len(units),
            "n_calls": run.calls,
            "n_cache_hits": int(answers["cached"].sum()),
            "n_answers": int(answers["raw"].notna().sum()),
            "n_votes": len(votes),
            "n_abstain": n_abstain,
            "n_truncated": n_truncated,
            "max_tokens": self.max_tokens
            if self.max_tokens is not None
            else answer_token_limit(names, task=task),
            "n_failed": n_failed,
            "n_skipped": n_skipped,
            "prompt_tokens": run.prompt_tokens,
            "completion_tokens": run.completion_tokens,
            "cost": cost,
            "stopped": run.stopped,
            "structured_output": "response_format" not in run.unsupported,
            "logprobs": "logprobs" not in run.unsupported,
            "cache_rebuilt": rebuilt,
            "seconds": time.perf_counter() - t0,
            **{c: int(answers[c].sum()) for c in count_cols},
        }
        if task == "multilabel":
            stats["label_sep"] = label_sep
        if task == "token":
            stats["n_votes"] = int(answers["label"].notna().sum())
            stats["n_spans"] = int(votes["start"].notna().sum())
            stats["n_spans_rejected"] = sum(
                int(answers[c].sum()) for c in count_cols if c.startswith("n_spans_rejected_")
            )
        if stats["n_answers"] == 0 and run.stopped and run.stopped.startswith("endpoint"):
            raise ServiceError(
                f"{run.stopped}. No answer was obtained; check --llm-base-url "
                f"({self.base_url}) and that the server is running."
            )
        return LLMResult(votes=votes, answers=answers, stats=stats, source=source)

    def _call(
        self,
        client: ChatClient,
        cache: LLMCache,
        run: _Run,
        messages: list[dict[str, str]],
        names: list[str],
        sample: int,
        task: str = "classification",
    ) -> tuple[dict[str, Any] | None, str | None]:
        """One paid call (after reserving budget); stores the answer before returning it."""
        if not run.reserve():
            return None, None
        while True:
            st = "response_format" not in run.unsupported
            lp = "logprobs" not in run.unsupported
            params = self._params(names, sample, st, lp, task)
            payload = {"model": self.model, "messages": messages, **params}
            try:
                out: CallOutcome = client.post(payload)
            except UnsupportedParameter as exc:
                opt = "logprobs" if str(exc) == "logprobs" else "response_format"
                with run.lock:
                    if opt in run.unsupported:  # refused again: give up on this item
                        return None, f"server refused the request ({exc})"
                    run.unsupported.add(opt)
                logger.warning("the server does not support %s; continuing without it", opt)
                continue
            except FatalEndpointError as exc:
                with run.lock:
                    run.stopped = run.stopped or f"endpoint error: {exc}"
                return None, str(exc)
            break
        if out.response is None:
            with run.lock:
                run.consecutive_failures += 1
                if run.consecutive_failures >= self.max_consecutive_failures:
                    run.stopped = run.stopped or (
                        f"endpoint failing: {run.consecutive_failures} calls in a row failed "
                        f"(last: {out.error})"
                    )
            return None, out.error
        cache.put(request_key(self.model, messages, params), self.model, out.response)
        usage = out.response.get("usage") or {}
        pt = int(usage.get("prompt_tokens") or 0)
        ct = int(usage.get("completion_tokens") or 0)
        with run.lock:
            run.consecutive_failures = 0
            run.prompt_tokens += pt
            run.completion_tokens += ct
            run.tokens += pt + ct
        return out.response, None

    def _votes(self, answers: Any, source: str) -> Any:
        """One vote per item: the majority label over its samples (ties: first class seen)."""
        import pandas as pd

        ok = answers[answers["label"].notna()]
        if ok.empty:
            return pd.DataFrame(columns=["item_id", "source", "label", "confidence"])
        n_per_item = answers.groupby("item_id", sort=False)["sample"].count()
        counts = ok.groupby(["item_id", "label"], sort=False).size().rename("n").reset_index()
        counts = counts.sort_values(["item_id", "n"], ascending=[True, False], kind="stable")
        top = counts.drop_duplicates("item_id").set_index("item_id")
        mean_lp = ok.groupby(["item_id", "label"], sort=False)["confidence"].mean()
        lp = mean_lp.reindex(list(zip(top.index, top["label"], strict=True))).to_numpy()
        if self.n_samples > 1:
            conf = top["n"].to_numpy() / n_per_item.reindex(top.index).to_numpy()
        else:
            conf = np.where(np.isnan(lp), 1.0, lp)
        return pd.DataFrame(
            {
                "item_id": top.index.to_numpy(),
                "source": source,
                "label": top["label"].to_numpy(),
                "confidence": conf.astype(np.float64),
            }
        )


def _multilabel_votes(answers: Any, source: str, sep: str) -> Any:
    """``item_id, source, label, confidence``: the tags of each answered item joined by ``sep``."""
    import pandas as pd

    ok = answers[answers["label"].notna()]
    tags = [sep.join(json.loads(v)) for v in ok["label"]]
    return pd.DataFrame(
        {
            "item_id": ok["item_id"].to_numpy(),
            "source": source,
            "label": np.asarray(tags, dtype=object),
            "confidence": np.ones(len(ok), dtype=np.float64),
        },
        columns=["item_id", "source", "label", "confidence"],
    )


def _span_votes(answers: Any, source: str) -> Any:
    """A span table ``item_id, source, start, end, label, text`` from the kept spans.

    An item answered with no entity has one row with empty offsets and label: the source
    saw it and marked nothing (what ``aggregate --label-type spans`` reads as all ``O``).
    """
    import pandas as pd

    ok = answers[answers["label"].notna()]
    recs: list[dict[str, Any]] = []
    for item, lab in zip(ok["item_id"], ok["label"], strict=True):
        spans = json.loads(lab)
        if not spans:
            recs.append({"item_id": item, "start": None, "end": None, "label": None, "text": None})
        recs += [{"item_id": item, **sp} for sp in spans]
    cols = ["item_id", "source", "start", "end", "label", "text"]
    df = pd.DataFrame(recs, columns=["item_id", "start", "end", "label", "text"])
    df.insert(1, "source", source)
    df["start"] = df["start"].astype("Int64")
    df["end"] = df["end"].astype("Int64")
    return df[cols]


def check_usable_answers(
    answers: Any, *, max_failed_share: float | None = None, base_url: str = ""
) -> None:
    """Refuse an LLM run where too many items got no usable answer.

    Parameters
    ----------
    answers : DataFrame
        ``LLMResult.answers`` (one row per item and sample).
    max_failed_share : float, optional
        Largest accepted share of the items sent (skipped by the budget: not counted)
        without a label in the class list; default: only refuse when none got one.
    base_url : str
        The endpoint, named in the message.

    Raises
    ------
    ServiceError
        With the counts, the first error and the first unusable answer.
    """
    if answers is None or len(answers) == 0:
        return
    sent = answers["raw"].notna() | answers["error"].notna()
    per_item = (
        answers.assign(ok=answers["label"].notna(), sent=sent)
        .groupby("item_id", sort=False)[["ok", "sent"]]
        .any()
    )
    n_sent = int(per_item["sent"].sum())
    n_bad = int((per_item["sent"] & ~per_item["ok"]).sum())
    if n_sent == 0 or n_bad == 0:
        return
    share = n_bad / n_sent
    limit = max_failed_share
    if (limit is None and n_bad < n_sent) or (limit is not None and share <= limit):
        return
    errors = answers["error"].dropna()
    unusable = answers.loc[answers["raw"].notna() & answers["label"].isna(), "raw"]
    why = []
    if len(errors):
        why.append(f"{len(errors)} calls failed (first: {str(errors.iloc[0])[:200]})")
    if len(unusable):
        why.append(
            f"{len(unusable)} answers named no class (first: {str(unusable.iloc[0])[:80]!r})"
        )
    if "truncated" in answers.columns:
        cut = int((answers["truncated"].fillna(False).astype(bool) & answers["label"].isna()).sum())
        if cut:
            why.append(
                f"{cut} of them were cut off at the token limit before naming a class (raise "
                "--llm-max-tokens)"
            )
    rule = "" if limit is None else f", more than --llm-max-failed-share {limit:g}"
    raise ServiceError(
        f"the LLM gave no usable answer for {n_bad} of {n_sent} items ({share:.0%}{rule}): "
        + "; ".join(why)
        + f". Nothing was written. Check --llm-base-url {base_url} and the prompt; answers "
        "already obtained are cached, so a re-run resumes."
    )


def label_with_llm(
    data: Any,
    *,
    text_column: str,
    llm: LLMLabeler,
    classes: Any = None,
    classes_file: Any = None,
    id_column: str | None = None,
    gold_column: str | None = None,
    select: int | None = None,
    featurizer: str = "auto",
    out: Any = None,
    overwrite: bool = False,
    random_state: int = 0,
    progress: Callable[[int, int], None] | None = None,
    max_failed_share: float | None = None,
    task: str = "classification",
    label_sep: str = ",",
) -> LLMResult:
    """Label a table with an LLM (``truelabel label --llm-base-url …``).

    Parameters
    ----------
    data : path or DataFrame
    text_column : str
    llm : LLMLabeler
    classes, classes_file : the class list (exactly one).
    id_column : str, optional
    gold_column : str, optional
        Known labels on some rows: they are the few-shot pool and are not sent.
    select : int, optional
        Send only this many items, chosen by :func:`select_items` (``typical``: the most
        representative item of each of ``select`` k-means clusters); default all.
    featurizer : str
        Embeddings for zero-shot selection and few-shot retrieval.
    out : path, optional
        Run directory: ``labels.parquet`` (item_id, label, confidence; label empty on
        abstains), ``votes.parquet``, ``answers.parquet``, ``summary.json``.
    max_failed_share : float in [0, 1], optional
        Refuse the result (``ServiceError``, nothing written) when more than this share of
        the items sent got no usable answer (a failed call, or an answer naming no class).
        Default: refuse only when no item got one.
    task : {"classification", "multilabel", "token"}
        ``multilabel`` (``label --multi``): ``labels.parquet`` holds the tags joined with
        ``label_sep`` and a ``p_<tag>`` column per class (1/0 from the answer).
        ``token``: ``classes`` are the entity types; ``spans.parquet`` holds the kept
        spans ``item_id, source, start, end, label, text`` (what ``audit --task token
        --spans`` reads) and ``votes.parquet`` the same plus one row without offsets per
        item answered with no entity (what ``aggregate --label-type spans`` reads).
    label_sep : str
        Separator of joined tags (``multilabel``).

    Returns
    -------
    LLMResult

    Raises
    ------
    ServiceError
        Too many items without a usable answer (see ``max_failed_share``); the message
        gives the counts and the first error. Answers obtained are cached, so a re-run
        resumes.
    """
    import pandas as pd

    from ..io import RunDir
    from ..report import write_report
    from ._zeroshot_classes import read_label_inputs

    if max_failed_share is not None and not 0.0 <= max_failed_share <= 1.0:
        raise InputError(
            f"--llm-max-failed-share must be in [0, 1] (a share of items); got {max_failed_share}."
        )
    specs, ds, empty = read_label_inputs(
        data,
        classes=classes,
        classes_file=classes_file,
        text_column=text_column,
        id_column=id_column,
        out=out,
        overwrite=overwrite,
    )
    names = [c.name for c in specs]
    assert ds.text is not None
    texts = np.asarray(ds.text, dtype=object)
    todo = np.flatnonzero(~empty)
    gold_t: list[str] = []
    gold_l: list[str] = []
    if gold_column:
        if gold_column not in ds.frame.columns:
            raise InputError(f"{ds.name}: no column {gold_column!r} for --gold-column.")
        g = ds.frame[gold_column]
        has = g.notna().to_numpy() & (g.astype(str).str.strip() != "").to_numpy() & ~empty
        gold_t = list(texts[has])
        gold_l = [str(v) for v in g[has]]
        todo = np.flatnonzero(~has & ~empty)
    if select is not None and select < len(todo):
        from ..featurize import featurize
        from ._select import select_items

        X = featurize(list(texts[todo]), method=featurizer)
        pick = select_items(X, int(select), strategy="typical", random_state=random_state)
        todo = todo[pick]
    res = llm.label(
        list(texts[todo]),
        specs,
        item_ids=list(ds.item_id[todo]),
        gold_texts=gold_t,
        gold_labels=gold_l,
        progress=progress,
        task=task,
        label_sep=label_sep,
    )
    check_usable_answers(res.answers, max_failed_share=max_failed_share, base_url=llm.base_url)
    labels = pd.DataFrame({"item_id": ds.item_id[todo]})
    if task != "token":
        labels = labels.merge(
            res.votes[["item_id", "label", "confidence"]], on="item_id", how="left"
        )
    if empty.any():  # listed with an empty label, like the LLM's own abstentions
        labels = pd.concat(
            [labels, pd.DataFrame({"item_id": ds.item_id[empty], "label": None})],
            ignore_index=True,
        )
    if task == "multilabel":
        answered = labels["label"].notna().to_numpy()
        sets = labels["label"].fillna("").astype(str).str.split(label_sep, regex=False)
        for c in names:
            has = np.fromiter((c in t for t in sets), dtype=bool, count=len(sets))
            labels[f"p_{c}"] = np.where(answered, has.astype(np.float64), np.nan)
    res.stats["n_empty_text"] = int(empty.sum())
    res.stats["selected"] = None if select is None else int(len(todo))
    res.stats["classes"] = names
    if out is not None:
        with RunDir(out, kind="label", overwrite=overwrite, meta={"command": "label --llm"}) as run:
            if task == "token":
                run.write_parquet("spans.parquet", res.votes[res.votes["start"].notna()])
            else:
                run.write_parquet("labels.parquet", labels)
            run.write_parquet("votes.parquet", res.votes)
            run.write_parquet(
                "answers.parquet",
                res.answers.astype(
                    {"raw": "string", "error": "string", "label": "string", "truncated": bool}
                ),
            )
            run.write_json("summary.json", res.stats)
            write_report(run, res._render_report())
    return res

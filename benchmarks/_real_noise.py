"""The real-noise suite: data sets whose given labels carry real (human or model) noise and
whose true labels are known. Loaders only; ``bench_real_noise.py`` runs the audit on them.

Each loader returns a :class:`NoisySet`: the given (noisy) labels, the true labels, the
texts when the data has them, and out-of-sample probabilities when the data ships them.
Random choices (which worker's answer is "the" given label) use a fixed seed per set, so
every run sees the same labels.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from _common import DATA

#: a fixed seed for every random draw of the given labels
SEED = 20261207


@dataclass
class NoisySet:
    """One real-noise data set.

    Attributes
    ----------
    name : str
    group : str
        The source data; leave-one-dataset-out leaves out a whole group (two label
        columns drawn from the same items are one group).
    noise : str
        What made the given labels wrong (``"human"``, ``"crowd majority"``, ``"LLM"``, ...).
    classes : list of str
    given, truth : ndarray of shape (N,), int64
        Given (noisy) and true labels, coded by ``classes``.
    texts : list of str or None
    pred_probs : ndarray of shape (N, K) or None
        Out-of-sample probabilities shipped with the data (columns follow ``classes``).
    prob_source : str
        What produced ``pred_probs``.
    note : str
        How the given label was drawn.
    """

    name: str
    group: str
    noise: str
    classes: list[str]
    given: np.ndarray
    truth: np.ndarray
    texts: list[str] | None = None
    pred_probs: np.ndarray | None = None
    prob_source: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> np.ndarray:
        return self.given != self.truth

    @property
    def n(self) -> int:
        return int(self.given.shape[0])


def _code(values: Any, classes: list[str]) -> np.ndarray:
    idx = {c: i for i, c in enumerate(classes)}
    return np.asarray([idx[str(v)] for v in values], dtype=np.int64)


# --------------------------------------------------------------------------- probabilities given


def load_cleanlab(name: str) -> NoisySet:
    """CIFAR-10 / MNIST test sets: the given test labels, out-of-sample probabilities, and
    the MTurk verdicts (an error = at most 2 of 5 workers chose the given label)."""
    src = DATA / "label-errors" / "cleanlab" / name
    labels = np.load(src / f"{name}_test_set_original_labels.npy").astype(np.int64)
    probs = np.load(src / f"{name}_test_set_pyx.npy").astype(np.float32)
    truth = labels.copy()
    for item in json.loads((src / f"{name}_mturk.json").read_text()):
        m = item["mturk"]
        if m["given"] <= 2:
            # the truth is unknown beyond "not the given label": mark it as any other class
            truth[item["id"]] = (labels[item["id"]] + 1) % probs.shape[1]
    return NoisySet(
        name=name,
        group=name,
        noise="human (dataset curators)",
        classes=[str(i) for i in range(probs.shape[1])],
        given=labels,
        truth=truth,
        pred_probs=probs / probs.sum(axis=1, keepdims=True),
        prob_source="the release's out-of-sample CNN probabilities",
        note="confirmed error = at most 2 of 5 MTurk workers chose the given label",
    )


CHAOS = DATA / "label-errors" / "chaosnli"
# predictions index order: 0 = entailment, 1 = contradiction, 2 = neutral (README)
_CHAOS_PRED_ORDER = ["entailment", "contradiction", "neutral"]
_CHAOS_LETTER = {"e": "entailment", "n": "neutral", "c": "contradiction"}


def load_chaosnli(model: str = "roberta-base_0") -> NoisySet:
    """ChaosNLI-SNLI: given = the original SNLI label, truth = the majority of 100 new
    votes; out-of-sample probabilities of a model fine-tuned on SNLI train."""
    items = pd.read_json(CHAOS / "chaosNLI_snli.jsonl.gz", lines=True)
    preds = pd.concat(
        [
            pd.read_json(CHAOS / "predictions" / f"SNLI_{half}_{model}.json.gz", lines=True)
            for half in ("dev", "test")
        ]
    )
    preds["uid"] = preds["uid"].astype(str)
    items["uid"] = items["uid"].astype(str)
    probs_by_uid = dict(zip(preds["uid"], preds["probs"], strict=True))
    classes = sorted(_CHAOS_PRED_ORDER)
    cols = [_CHAOS_PRED_ORDER.index(c) for c in classes]
    probs = np.asarray([probs_by_uid[u] for u in items["uid"]], dtype=np.float64)[:, cols]
    texts = [
        f"{ex['premise']} [SEP] {ex['hypothesis']}" for ex in items["example"]
    ]  # one text column holding both sentences
    return NoisySet(
        name="chaosnli_snli",
        group="chaosnli_snli",
        noise="human (original 5 annotators' majority)",
        classes=classes,
        given=_code(items["old_label"].map(_CHAOS_LETTER), classes),
        truth=_code(items["majority_label"].map(_CHAOS_LETTER), classes),
        texts=texts,
        pred_probs=(probs / probs.sum(axis=1, keepdims=True)).astype(np.float32),
        prob_source=f"{model} fine-tuned on SNLI train (Baan et al. 2022)",
        note="given = original SNLI label; truth = majority of 100 ChaosNLI votes",
    )


# --------------------------------------------------------------------------- human noise, text


def _rte() -> tuple[pd.DataFrame, pd.DataFrame]:
    votes = pd.read_csv(DATA / "crowd" / "snow2008" / "rte.standardized.tsv", sep="\t")
    text = pd.read_csv(DATA / "crowd" / "snow2008" / "rte_text.tsv", sep="\t")
    return votes, text.sort_values("id").reset_index(drop=True)


def load_rte(workers: int) -> NoisySet:
    """Snow et al. 2008 RTE (800 pairs, 10 workers each): given = one random worker's
    answer (``workers=1``) or the majority of 3 random workers (``workers=3``); truth = gold."""
    votes, text = _rte()
    rng = np.random.default_rng(SEED + workers)
    # a random permutation of each item's 10 answers; the first `workers` are "the" labellers
    votes = votes.assign(_r=rng.random(len(votes))).sort_values(["orig_id", "_r"])
    chosen = votes.groupby("orig_id").head(workers)
    given = (chosen.groupby("orig_id")["response"].mean() > 0.5).astype(int)
    gold = votes.groupby("orig_id")["gold"].first()
    ids = text["id"].to_numpy()
    classes = ["0", "1"]
    return NoisySet(
        name=f"rte_{workers}worker" if workers == 1 else f"rte_mv{workers}",
        group="snow2008_rte",
        noise="human (one MTurk worker)" if workers == 1 else "human (majority of 3 workers)",
        classes=classes,
        given=given.loc[ids].to_numpy().astype(np.int64),
        truth=gold.loc[ids].to_numpy().astype(np.int64),
        texts=(text["text"] + " [SEP] " + text["hypothesis"]).tolist(),
        note=f"given = {'one random worker' if workers == 1 else 'majority of 3 random workers'}"
        f" of 10 (seed {SEED + workers}); truth = gold",
        extra={"votes": votes[["orig_id", "!amt_worker_ids", "response"]]},
    )


def load_cf20ng() -> NoisySet:
    """CrowdFlower re-annotation of 20 Newsgroups posts: given = one random worker's label
    (a worker who picked exactly one category when there is one, else one of the picked
    categories at random); truth = the newsgroup the post came from."""
    path = DATA / "crowd" / "crowdflower-20newsgroups" / "cf20ng_items_with_text.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r.get("text")]
    classes = sorted({r["gold"] for r in rows})
    rng = np.random.default_rng(SEED)
    given, truth, texts = [], [], []
    for r in rows:  # 1,126 items: a loop over items in a data loader, not a hot path
        single = [a for a in r["annotations"] if len(a["labels"]) == 1]
        pool = single or r["annotations"]
        ann = pool[int(rng.integers(len(pool)))]
        given.append(ann["labels"][int(rng.integers(len(ann["labels"])))])
        truth.append(r["gold"])
        texts.append(r["text"])
    return NoisySet(
        name="cf20ng_1worker",
        group="cf20ng",
        noise="human (one CrowdFlower worker)",
        classes=classes,
        given=_code(given, classes),
        truth=_code(truth, classes),
        texts=texts,
        note=f"given = one random worker's label (seed {SEED}); truth = the post's newsgroup",
    )


def load_amazon() -> NoisySet:
    """1k Amazon reviews, "is the review negative?": given = one crowd worker's answer
    (drawn from the item's yes/no vote counts), truth = the review's star rating."""
    df = pd.read_csv(
        DATA / "crowd" / "amazon-sentiment-1k" / "1k_amazon_reviews_crowdsourced_transformed.csv"
    )
    n_votes = df["is_negative_in"] + df["is_negative_out"]
    df = df.loc[n_votes > 0].reset_index(drop=True)
    share_yes = df["is_negative_in"] / (df["is_negative_in"] + df["is_negative_out"])
    rng = np.random.default_rng(SEED)
    given = (rng.random(len(df)) < share_yes.to_numpy()).astype(np.int64)
    return NoisySet(
        name="amazon_negative_1worker",
        group="amazon_sentiment",
        noise="human (one crowd worker)",
        classes=["0", "1"],
        given=given,
        truth=df["is_negative"].to_numpy().astype(np.int64),
        texts=df["text"].astype(str).tolist(),
        note=f"given = one worker's answer drawn from the item's vote counts (seed {SEED})",
    )


# --------------------------------------------------------------------------- model noise, text

CSS = DATA / "llm-labels" / "llms_for_css"
CSS_MODEL = "flan-t5-xl"
#: tasks where flan-t5-xl beats chance (1/K) by at least 0.15 accuracy; on the three binary
#: tasks (conv_go_awry 0.54, persuasion 0.53, reddit_humor 0.59) its labels are close to coin
#: flips, so there is nothing to audit (see bench_real_noise.py --list)
CSS_TASKS = ["discourse", "emotion", "implicit_hate", "raop", "semeval_stance", "wiki_politeness"]


def load_css(task: str, model: str = CSS_MODEL) -> NoisySet:
    """llms_for_css: given = one LLM's zero-shot answer, truth = the task's gold label.
    Items the model's answer does not parse to a class are left out."""
    from bench_aggregate_llm import load_task

    votes, gold, classes = load_task(task)
    mine = votes.loc[votes["source"] == model].set_index("item")["label"]
    d = json.loads((CSS / task / "test.json").read_text(encoding="utf-8"))
    ctx = list(d["context"].values())
    ok = mine.notna() & mine.index.isin(gold.index)
    # the audit needs at least `folds` (5) items per given class: a class the model chose
    # fewer times is left out with its items (discourse: 2 items), and counted in the note
    counts = mine[ok].value_counts()
    rare = mine.isin(counts.index[counts < 5]) & ok
    rows = mine.index[ok & ~rare].to_numpy()
    texts = [ctx[i] if isinstance(ctx[i], str) else json.dumps(ctx[i]) for i in rows]
    return NoisySet(
        name=f"css_{task}",
        group=f"css_{task}",
        noise=f"LLM ({model}, zero-shot)",
        classes=list(classes),
        given=_code(mine.loc[rows], list(classes)),
        truth=_code(gold.loc[rows], list(classes)),
        texts=texts,
        note=f"given = {model}'s answer; truth = gold; {int((~ok).sum())} unparsed answers and "
        f"{int(rare.sum())} items of classes given fewer than 5 times left out",
        extra={"votes": votes, "gold": gold},
    )


# --------------------------------------------------------------------------- programmatic noise

WRENCH = DATA / "weak-supervision" / "wrench"


def load_wrench(task: str) -> NoisySet:
    """WRENCH train split: given = the majority vote of the labeling functions (ties: the
    lowest class code; items no function covers are left out), truth = gold. The label
    errors a team gets from keyword rules."""
    d = json.loads((WRENCH / task / "train.json").read_text(encoding="utf-8"))
    names = json.loads((WRENCH / task / "label.json").read_text(encoding="utf-8"))
    classes = [str(names[str(i)]) for i in range(len(names))]
    items = list(d.values())
    weak = np.asarray([it["weak_labels"] for it in items])
    counts = np.stack([(weak == c).sum(axis=1) for c in range(len(classes))], axis=1)
    covered = counts.sum(axis=1) > 0
    given = counts.argmax(axis=1)
    # as for the LLM tasks: a class given to fewer than 5 items (the folds) is left out
    rare = np.isin(given, np.flatnonzero(np.bincount(given[covered], minlength=len(classes)) < 5))
    n_rare = int((covered & rare).sum())
    covered &= ~rare
    return NoisySet(
        name=f"wrench_{task}",
        group=f"wrench_{task}",
        noise="labeling functions (majority vote)",
        classes=classes,
        given=given[covered].astype(np.int64),
        truth=np.asarray([it["label"] for it in items])[covered].astype(np.int64),
        texts=[str(it["data"]["text"]) for it, c in zip(items, covered, strict=True) if c],
        note=f"given = majority of {weak.shape[1]} labeling functions; "
        f"{int((~covered).sum()) - n_rare} uncovered items and {n_rare} items of classes given "
        "fewer than 5 times left out",
    )


# --------------------------------------------------------------------------- secondary checks


def load_20news_injected(rate: float = 0.2) -> NoisySet:
    """20 Newsgroups train (long posts) with 20% pair-flipped labels (secondary check only:
    injected noise is never the evidence for a default)."""
    from _common import inject_noise, load_text_dataset

    texts, y, classes = load_text_dataset("20news")
    noisy = inject_noise(y, len(classes), rate, "pair", seed=0)
    return NoisySet(
        name="20news_injected_pair20",
        group="20news_injected",
        noise="injected (pair flips, 20%)",
        classes=[str(c) for c in classes],
        given=np.asarray(noisy, dtype=np.int64),
        truth=np.asarray(y, dtype=np.int64),
        texts=texts,
        note="secondary: injected noise",
    )


LOADERS: dict[str, Callable[[], NoisySet]] = {
    "cifar10": lambda: load_cleanlab("cifar10"),
    "mnist": lambda: load_cleanlab("mnist"),
    "chaosnli_snli": load_chaosnli,
    "rte_1worker": lambda: load_rte(1),
    "rte_mv3": lambda: load_rte(3),
    "cf20ng_1worker": load_cf20ng,
    "amazon_negative_1worker": load_amazon,
    **{f"css_{t}": (lambda t=t: load_css(t)) for t in CSS_TASKS},
}
#: labeling-function noise (WRENCH): not in LOADERS yet; see bench_real_noise.py --sets
PROGRAMMATIC: dict[str, Callable[[], NoisySet]] = {
    f"wrench_{t}": (lambda t=t: load_wrench(t)) for t in ("youtube", "sms", "trec")
}
SECONDARY: dict[str, Callable[[], NoisySet]] = {
    "20news_injected_pair20": load_20news_injected,
}

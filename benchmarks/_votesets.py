"""Every real vote set in ../shared/datasets, coded once, with gold codes per item.

One loader for the aggregate benchmarks and the leave-one-dataset-out (LODO) choice of
``auto``'s criterion and of the posterior calibration. Each set is a :class:`VoteSet`:
the votes as :class:`truelabel.sources.VoteArrays` (what a user's file would become), the
gold class code per item (-1 = none; gold is only ever used for scoring) and its kind
(``crowd``, ``lf`` = labeling functions, ``llm``).

    from _votesets import load_vote_sets
    for vs in load_vote_sets():            # or load_vote_sets(kinds=("crowd",))
        print(vs.name, vs.votes.n_votes)
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from truelabel.sources import VoteArrays

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
CROWD = DATA / "crowd"


@dataclass
class VoteSet:
    """A coded vote set with gold codes for scoring."""

    name: str
    kind: str
    votes: VoteArrays
    gold: np.ndarray
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_gold(self) -> int:
        return int((self.gold >= 0).sum())


# ----------------------------------------------------------------------------- crowd tables
# Each returns (votes DataFrame[worker, task, label], truth Series task -> label)


def _zheng(name: str) -> tuple[pd.DataFrame, pd.Series]:
    a = pd.read_csv(CROWD / "zheng2017" / name / "answer.csv")
    t = pd.read_csv(CROWD / "zheng2017" / name / "truth.csv")
    votes = a.rename(columns={"question": "task", "worker": "worker", "answer": "label"})
    return votes[["worker", "task", "label"]], t.set_index("question")["truth"]


def _snow(name: str) -> tuple[pd.DataFrame, pd.Series]:
    df = pd.read_csv(CROWD / "snow2008" / f"{name}.standardized.tsv", sep="\t")
    votes = df.rename(columns={"!amt_worker_ids": "worker", "orig_id": "task", "response": "label"})
    truth = df.groupby("orig_id")["gold"].first()
    return votes[["worker", "task", "label"]], truth


def _bluebirds() -> tuple[pd.DataFrame, pd.Series]:
    import yaml

    d = CROWD / "cubam" / "demo" / "bluebirds"
    labels = yaml.safe_load((d / "labels.yaml").read_text())
    gt = yaml.safe_load((d / "gt.yaml").read_text())
    rows = [(w, t, int(v)) for w, items in labels.items() for t, v in items.items()]
    votes = pd.DataFrame(rows, columns=["worker", "task", "label"])
    return votes, pd.Series({k: int(v) for k, v in gt.items()})


def _gal(name: str) -> tuple[pd.DataFrame, pd.Series]:
    d = CROWD / "get-another-label" / name
    votes = pd.read_csv(d / "labels.txt", sep="\t", header=None, names=["worker", "task", "label"])
    truth_file = d / ("evaluation.txt" if name == "BarzanMozafari" else "gold.txt")
    t = pd.read_csv(truth_file, sep="\t", header=None, names=["task", "truth"])
    return votes, t.set_index("task")["truth"]


def _venanzi() -> tuple[pd.DataFrame, pd.Series]:
    df = pd.read_csv(
        CROWD / "venanzi" / "Sentiment_popularity_SP_amt.csv",
        header=None,
        names=["worker", "task", "label", "gold", "seconds"],
    )
    return df[["worker", "task", "label"]], df.groupby("task")["gold"].first()


def _cifar10n() -> tuple[pd.DataFrame, pd.Series]:
    d = CROWD / "cifar-10n"
    lab = np.load(d / "CIFAR-10_human.npz")
    order = np.load(d / "image_order_c10.npy", allow_pickle=True).astype(np.int64)
    side = pd.read_csv(d / "side_info_cifar10N.csv")
    batch = np.arange(len(order)) // 10
    frames = []
    for j in (1, 2, 3):
        w = side[f"Worker{j}-id"].to_numpy()[batch]
        frames.append(
            pd.DataFrame({"worker": w, "task": order, "label": lab[f"random_label{j}"][order]})
        )
    votes = pd.concat(frames, ignore_index=True)
    return votes, pd.Series(lab["clean_label"], index=np.arange(len(lab["clean_label"])))


def _cf20ng() -> tuple[pd.DataFrame, pd.Series]:
    rows, truth = [], {}
    path = CROWD / "crowdflower-20newsgroups" / "cf20ng_items_with_text.jsonl"
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            truth[r["item"]] = r["gold"]
            for a in r["annotations"]:
                # single-select answers only: a multi-select answer is not one vote
                if len(a["labels"]) == 1:
                    rows.append((a["worker"], r["item"], a["labels"][0]))
    return pd.DataFrame(rows, columns=["worker", "task", "label"]), pd.Series(truth)


def _amazon(predicate: str) -> tuple[pd.DataFrame, pd.Series]:
    """Counts of workers saying in/out per review, no worker ids: anonymous vote slots.

    Each review's ``in`` and ``out`` votes are dealt to slots ``anon_0 … anon_{m-1}`` in
    a random order (seed 0), so every slot is an exchangeable anonymous worker.
    """
    df = pd.read_csv(
        CROWD / "amazon-sentiment-1k" / "1k_amazon_reviews_crowdsourced_transformed.csv"
    )
    rng = np.random.default_rng(0)
    n_in = df[f"is_{predicate}_in"].to_numpy(dtype=int)
    n_out = df[f"is_{predicate}_out"].to_numpy(dtype=int)
    rows = []
    for item, a, b in zip(df["item_id"].to_numpy(), n_in, n_out, strict=True):
        labels = np.array([1] * a + [0] * b)
        rng.shuffle(labels)
        rows += [(f"anon_{j}", item, int(lab)) for j, lab in enumerate(labels)]
    return (
        pd.DataFrame(rows, columns=["worker", "task", "label"]),
        pd.Series(df[f"is_{predicate}"].to_numpy(dtype=int), index=df["item_id"].to_numpy()),
    )


def _chaosnli_snli() -> tuple[pd.DataFrame, pd.Series]:
    """SNLI's 5 original labels per item (slot 0 = the hypothesis author, 1-4 = validators)
    vs the majority of 100 fresh ChaosNLI labels."""
    import gzip

    names = {"e": "entailment", "n": "neutral", "c": "contradiction"}
    rows, truth = [], {}
    with gzip.open(DATA / "label-errors" / "chaosnli" / "chaosNLI_snli.jsonl.gz", "rt") as fh:
        for line in fh:
            r = json.loads(line)
            truth[r["uid"]] = names[r["majority_label"]]
            for j, lab in enumerate(r["old_labels"]):
                if lab in names.values():
                    rows.append((f"slot_{j}", r["uid"], lab))
    return pd.DataFrame(rows, columns=["worker", "task", "label"]), pd.Series(truth)


def _crowdtruth_cause() -> tuple[pd.DataFrame, pd.Series]:
    """CrowdTruth medical relations, binary per sentence: did the worker select ``causes``?
    Truth: the medical expert's judgement for the cause relation."""
    d = CROWD / "crowdtruth-multiselect" / "cross_task"
    raw = pd.read_csv(d / "medical_raw.csv.gz")
    agg = pd.read_csv(d / "medical_aggregated.csv")
    cause = agg[agg["Annotation"] == "cause"].drop_duplicates("Unit_Id")
    raw = raw[raw["Sent_id"].isin(set(cause["Unit_Id"]))]
    said = raw["judgement"].astype(str).str.contains(r"\[causes\]").astype(int)
    votes = pd.DataFrame({"worker": raw["Work_id"], "task": raw["Sent_id"], "label": said})
    return votes, cause.set_index("Unit_Id")["Expert"].astype(int)


CROWD_SETS: dict[str, Callable[[], tuple[pd.DataFrame, pd.Series]]] = {
    "zheng2017/dog": lambda: _zheng("dog"),
    "zheng2017/duck": lambda: _zheng("duck"),
    "snow2008/rte": lambda: _snow("rte"),
    "snow2008/temp": lambda: _snow("temp"),
    "snow2008/wsd": lambda: _snow("wsd"),
    "cubam/bluebirds": _bluebirds,
    "gal/BarzanMozafari": lambda: _gal("BarzanMozafari"),
    "gal/AdultContent2": lambda: _gal("AdultContent2"),
    "venanzi/sentiment": _venanzi,
    "cifar-10n": _cifar10n,
    "crowdflower/20ng": _cf20ng,
    "amazon-1k/is_book": lambda: _amazon("book"),
    "amazon-1k/is_negative": lambda: _amazon("negative"),
    "chaosnli/snli": _chaosnli_snli,
    "crowdtruth/medical_cause": _crowdtruth_cause,
}

#: crowd sets left out of the leave-one-dataset-out choice, with the reason
NOT_IN_LODO = {
    "cubam/bluebirds": "the same 4,212 votes as zheng2017/duck (counted once)",
}

#: sets in ../shared/datasets that are not categorical single-label vote sets
SKIPPED = {
    "snow2008/{anger,disgust,fear,joy,sadness,surprise,valence,wordsim}": "numeric ratings "
    "(issue 13 item 3, numeric labels)",
    "zheng2017/emotion_numeric": "numeric ratings",
    "cubam/ducks": "binary 'duck present' votes but no documented truth for it (classes.yaml "
    "holds species)",
    "chaosnli/alphanli": "one original label per item (no votes to aggregate)",
    "crowdtruth tweets/events": "multi-select without per-item single-label truth",
    "regression/moviereviews-crowd": "numeric ratings",
}


def _coded(raw: pd.DataFrame, truth: pd.Series) -> tuple[VoteArrays, np.ndarray]:
    from truelabel.sources import votes_from_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate (item, worker) votes: last kept
        v = votes_from_table(
            raw.dropna(), item_column="task", source_column="worker", label_column="label"
        )
    return v, gold_codes(v, truth)


def gold_codes(v: VoteArrays, truth: pd.Series) -> np.ndarray:
    """Gold class code per item of ``v`` (-1 = no gold or a class no vote used)."""
    key = {str(c): i for i, c in enumerate(v.classes)}
    t = truth.copy()
    t.index = t.index.astype(str)
    tt = t.astype(str).map(key).dropna().astype(int)
    g = np.full(v.n_items, -1, dtype=np.int64)
    idx = pd.Index(np.asarray(v.item_ids).astype(str)).get_indexer(tt.index)
    ok = idx >= 0
    g[idx[ok]] = tt.to_numpy()[ok]
    return g


def crowd_set(name: str) -> VoteSet:
    raw, truth = CROWD_SETS[name]()
    v, g = _coded(raw, truth)
    return VoteSet(name, "crowd", v, g, NOT_IN_LODO.get(name, ""))


# ----------------------------------------------------------------------------- WRENCH

WRENCH = ("youtube", "sms", "trec", "chemprot")


def wrench_set(name: str, *, long: bool = False, splits: tuple[str, ...] | None = None) -> VoteSet:
    """A WRENCH dataset's weak labels (all splits, or ``splits``) as votes.

    ``long=False``: as read from the WRENCH files (a label matrix: labeling functions see
    every item, so abstaining is modelled). ``long=True``: the same votes as a long
    ``(item, source, label)`` table, as a user exporting LF votes would hand them over;
    items no LF fired on are not in it.
    """
    from truelabel.sources import votes_from_matrix, votes_from_table
    from truelabel.sources._wrench import read_wrench

    d = DATA / "weak-supervision" / "wrench" / name
    parts = splits or tuple(s for s in ("train", "valid", "test") if (d / f"{s}.json").exists())
    Ls, golds, ids = [], [], []
    classes: list[str] = []
    for s in parts:
        sp = read_wrench(d / f"{s}.json")
        Ls.append(sp.weak_labels)
        golds.append(sp.gold)
        ids += [f"{s}:{i}" for i in sp.data["item_id"]]
        classes = sp.classes
    L = np.vstack(Ls)
    gold = np.concatenate(golds)
    v = votes_from_matrix(
        L, classes=classes, item_ids=ids, source_names=[f"lf_{j}" for j in range(L.shape[1])]
    )
    label = f"wrench/{name}" + ("" if splits is None else "[" + "+".join(parts) + "]")
    if not long:
        return VoteSet(label, "lf", v, gold)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lv = votes_from_table(
            v.to_frame(),
            item_column="item_id",
            source_column="source",
            label_column="label",
            classes=classes,
        )
    t = pd.Series(np.asarray(classes, dtype=object)[gold], index=ids)
    return VoteSet(label + " (long table)", "lf", lv, gold_codes(lv, t))


# ----------------------------------------------------------------------------- LLMs


def llm_set(task: str) -> VoteSet:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_aggregate_llm import coded_task

    v, g, n_bad = coded_task(task)
    return VoteSet(
        f"llm/{task}", "llm", v, np.asarray(g, dtype=np.int64), extra={"unparseable": n_bad}
    )


def llm_tasks() -> list[str]:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_aggregate_llm import TASKS

    return list(TASKS)


# ----------------------------------------------------------------------------- all


def set_names(kinds: tuple[str, ...] = ("crowd", "lf", "llm")) -> list[str]:
    """Names of every set of the given kinds, in a fixed order."""
    out: list[str] = []
    if "crowd" in kinds:
        out += list(CROWD_SETS)
    if "lf" in kinds:
        out += [f"wrench/{n}" for n in WRENCH] + [f"wrench/{n} (long table)" for n in WRENCH]
    if "llm" in kinds:
        out += [f"llm/{t}" for t in llm_tasks()]
    return out


def load_set(name: str) -> VoteSet:
    """One set by the name :func:`set_names` gives."""
    if name in CROWD_SETS:
        return crowd_set(name)
    if name.startswith("wrench/"):
        base = name.removeprefix("wrench/").removesuffix(" (long table)")
        return wrench_set(base, long=name.endswith("(long table)"))
    if name.startswith("llm/"):
        return llm_set(name.removeprefix("llm/"))
    raise KeyError(name)


def load_vote_sets(
    kinds: tuple[str, ...] = ("crowd", "lf", "llm"), *, lodo_only: bool = False
) -> Iterator[VoteSet]:
    """Every vote set of the given kinds (``lodo_only``: without the duplicates)."""
    for name in set_names(kinds):
        if lodo_only and name in NOT_IN_LODO:
            continue
        yield load_set(name)

"""LLMs as sources: aggregate the answers of the llms_for_css models per task.

Each ``answer-<model>`` file of a task is one source (``row_idx, gold, predicted``).
Raw answers are normalised (leading ``&`` padding, trailing dots, case of
True/False, ``A: ...`` prefixes); an answer that is not one of the task's options
is an abstention. Gold (from the same files) is only used for scoring.
hippocorpus and sbic are free-text generation tasks and are skipped.

Reported per task: accuracy of truelabel's methods, of the best single model
(chosen with hindsight on gold, so an upper bound for "pick one model"), and of
majority vote; the Spearman correlation between each model's estimated accuracy
(source-quality table) and its true accuracy on gold.

    .venv/bin/python benchmarks/bench_aggregate_llm.py
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import platform
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from truelabel.sources import VoteArrays

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "llm-labels" / "llms_for_css"
RESULTS = ROOT / "benchmarks" / "results" / "aggregate_llm.json"

TASKS = [
    "conv_go_awry",
    "discourse",
    "emotion",
    "implicit_hate",
    "persuasion",
    "raop",
    "reddit_humor",
    "semeval_stance",
    "wiki_politeness",
]
BINARY = {"conv_go_awry", "reddit_humor", "persuasion"}
N_GOLD = 50
# gold value -> option text, where gold is not the option letter itself
GOLD_NAMES = {
    "wiki_politeness": {"1": "polite", "0": "neutral", "-1": "impolite"},
    "implicit_hate": {
        "white_grievance": "white grievance",
        "incitement": "incitement to violence",
        "inferiority": "inferiority language",
        "irony": "irony",
        "stereotypical": "stereotypes and misinformation",
        "threatening": "threatening and intimidation",
    },
}


def _options(task: str) -> dict[str, str]:
    d = json.loads((DATA / task / "test.json").read_text(encoding="utf-8"))
    prompts = d["prompts"]
    prompts = ast.literal_eval(prompts) if isinstance(prompts, str) else prompts
    text = next(iter(prompts.values()))
    return {k: v.strip().lower() for k, v in re.findall(r"\n([A-Z]): ([^\n(]+)", text)}


def _norm_binary(x: pd.Series) -> pd.Series:
    s = x.astype(str).str.lstrip("&").str.strip().str.rstrip(".").str.strip().str.lower()
    s = s.replace({"1.0": "true", "0.0": "false", "1": "true", "0": "false"})
    return s.where(s.isin(["true", "false"]))


def _norm_letter(x: pd.Series, letters: list[str]) -> pd.Series:
    s = x.astype(str).str.lstrip("&").str.strip()
    first = s.str.extract(r"^([A-Z])(?:$|[:.)\s])", expand=False)
    return first.where(first.isin(letters))


def load_task(task: str) -> tuple[pd.DataFrame, pd.Series, list[str]]:
    """Votes (item, source, label), gold per item, class list."""
    frames, gold = [], None
    opts = {} if task in BINARY else _options(task)
    letters = sorted(opts)
    for f in sorted((DATA / task).glob("answer-*")):
        if f.stat().st_size == 0:
            continue
        df = pd.read_csv(
            f,
            sep="\t",
            header=None,
            names=["row", "gold", "pred"],
            dtype=str,
            keep_default_na=False,
            quoting=3,
        )
        model = f.name.removeprefix("answer-")
        if task in BINARY:
            pred = _norm_binary(df["pred"])
            g = _norm_binary(df["gold"])
        else:
            pred = _norm_letter(df["pred"], letters)
            gname = df["gold"].astype(str).str.strip()
            if set(gname) <= set(letters):
                g = gname
            else:
                names = GOLD_NAMES.get(task, {})
                inv = {v: k for k, v in opts.items()}
                lookup = {s: inv.get(names.get(s, s).lower().replace("_", " ")) for s in set(gname)}
                g = gname.map(lookup)
        frames.append(pd.DataFrame({"item": df["row"].astype(int), "source": model, "label": pred}))
        gs = pd.Series(g.to_numpy(), index=df["row"].astype(int))
        gold = gs if gold is None else gold.combine_first(gs)
    votes = pd.concat(frames, ignore_index=True)
    assert gold is not None
    classes = ["false", "true"] if task in BINARY else letters
    return votes, gold.dropna(), classes


def _features(task: str, item_ids: np.ndarray) -> np.ndarray:
    """MiniLM embeddings of the items' texts (``context`` of test.json).

    The answer files index items by row; row ``i`` is the ``i``-th entry of
    ``test.json``'s ``context`` (its ``labels`` in the same order equal the answer
    files' gold column on every task checked). Non-string contexts (conversations)
    are JSON-dumped.
    """
    import torch

    from truelabel.featurize import featurize

    torch.set_num_threads(1)
    d = json.loads((DATA / task / "test.json").read_text(encoding="utf-8"))
    ctx = list(d["context"].values())
    texts = [c if isinstance(c, str) else json.dumps(c)[:2000] for c in ctx]
    rows = np.asarray(item_ids).astype(int)
    return np.asarray(featurize([texts[i] for i in rows], method="minilm"))


def coded_task(task: str) -> tuple[VoteArrays, np.ndarray, int]:
    """The task's votes coded once, gold class code per item (-1 = none), unparseable count."""
    from truelabel.sources import votes_from_table

    raw, gold, classes = load_task(task)
    n_raw = len(raw)
    raw = raw.dropna(subset=["label"])
    v = votes_from_table(
        raw, item_column="item", source_column="source", label_column="label", classes=classes
    )
    key = {c: i for i, c in enumerate(classes)}
    g = np.full(v.n_items, -1)
    idx = pd.Index(v.item_ids).get_indexer(gold.index)
    ok = idx >= 0
    g[idx[ok]] = gold[ok].map(key).to_numpy()
    return v, g, n_raw - len(raw)


def run_task(task: str) -> dict[str, object]:
    from truelabel.aggregate import aggregate_votes

    v, g, n_unparseable = coded_task(task)
    has = g >= 0
    # true accuracy per model on gold items it answered (abstentions count as wrong)
    true_acc = {}
    for s, name in enumerate(v.source_names):
        m = v.source == s
        right = np.zeros(v.n_items, dtype=bool)
        right[v.item[m]] = v.label[m] == g[v.item[m]]
        true_acc[str(name)] = float(right[has].mean())
    best_model = max(true_acc, key=lambda k: true_acc[k])
    out: dict[str, object] = {
        "task": task,
        "n_items": v.n_items,
        "n_gold": int(has.sum()),
        "n_models": v.n_sources,
        "n_classes": v.n_classes,
        "unparseable_answers": n_unparseable,
        "best_single_model": best_model,
        "best_single_accuracy": true_acc[best_model],
        "model_accuracy": true_acc,
        "methods": {},
    }
    methods = out["methods"]
    assert isinstance(methods, dict)
    X = _features(task, v.item_ids)
    for method in ("mv", "wawa", "ds", "ds_pooled", "onecoin", "mace", "auto", "features"):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = aggregate_votes(
                v, method=method, random_state=0, features=X if method == "features" else None
            )
        secs = time.perf_counter() - t0
        acc = float((np.argmax(r.posterior, axis=1)[has] == g[has]).mean())
        src = r.sources.set_index("source")
        est = np.array([src.loc[n, "estimated_accuracy"] for n in true_acc])
        rho = float(spearmanr(est, np.array(list(true_acc.values()))).statistic)
        methods[method] = {"accuracy": acc, "spearman_source_accuracy": rho, "seconds": secs}
        if method == "auto":
            out["auto_choice"] = r.summary["method"]
            out["auto_reason"] = r.summary["method_reason"]
        print(f"  {task:16s} {method:10s} acc={acc:.4f} spearman={rho:.3f}", flush=True)
    print(f"  {task:16s} best single ({best_model}) acc={true_acc[best_model]:.4f}", flush=True)
    # With a small gold subset: 50 random gold items are clamped (and drive auto's choice);
    # accuracy is measured on the other items, for the aggregate and for every single model.
    rng = np.random.default_rng(0)
    gold_idx = rng.choice(np.flatnonzero(has), size=min(N_GOLD, int(has.sum()) // 5), replace=False)
    gsub = np.full(v.n_items, -1)
    gsub[gold_idx] = g[gold_idx]
    rest = has.copy()
    rest[gold_idx] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = aggregate_votes(v, method="auto", gold=gsub, random_state=0)
    acc_g = float((np.argmax(r.posterior, axis=1)[rest] == g[rest]).mean())
    single_rest, single_gold = {}, {}
    for s_, name in enumerate(v.source_names):
        m = v.source == s_
        right = np.zeros(v.n_items, dtype=bool)
        right[v.item[m]] = v.label[m] == g[v.item[m]]
        single_rest[str(name)] = float(right[rest].mean())
        single_gold[str(name)] = float(right[gold_idx].mean())
    best_rest = max(single_rest, key=lambda k: single_rest[k])
    # fair comparator: the model that is best on the SAME 50 gold items (first one on ties),
    # evaluated on the other items
    best_on_gold = max(single_gold, key=lambda k: single_gold[k])
    src = r.sources.set_index("source")
    est = np.array([src.loc[n, "estimated_accuracy"] for n in true_acc])
    gacc = np.array([single_gold[n] for n in true_acc])
    out["with_gold"] = {
        "n_gold": int(len(gold_idx)),
        "auto_choice": r.summary["method"],
        "auto_reason": r.summary["method_reason"],
        "auto_accuracy_on_rest": acc_g,
        "best_single_on_rest": single_rest[best_rest],
        "best_single_model_on_rest": best_rest,
        "picked_on_gold_model": best_on_gold,
        "picked_on_gold_accuracy_on_rest": single_rest[best_on_gold],
        "spearman_source_accuracy": float(
            spearmanr(est, np.array(list(true_acc.values()))).statistic
        ),
        "spearman_gold_subset_accuracy": float(
            spearmanr(gacc, np.array(list(true_acc.values()))).statistic
        ),
    }
    print(
        f"  {task:16s} with {len(gold_idx)} gold: auto({r.summary['method']}) acc={acc_g:.4f} "
        f"picked on gold ({best_on_gold})={single_rest[best_on_gold]:.4f} "
        f"hindsight best={single_rest[best_rest]:.4f}",
        flush=True,
    )
    return out


def main() -> None:
    import truelabel

    rows = []
    for t in TASKS:
        print(f"== {t}", flush=True)
        rows.append(run_task(t))
    summary = []
    for r in rows:
        ms = r["methods"]
        assert isinstance(ms, dict)
        summary.append(
            {
                "task": r["task"],
                "auto": ms["auto"]["accuracy"],
                "auto_choice": r.get("auto_choice"),
                "mv": ms["mv"]["accuracy"],
                "best_single": r["best_single_accuracy"],
                "best_single_model": r["best_single_model"],
                "auto_beats_best_single": ms["auto"]["accuracy"] > r["best_single_accuracy"],
                "auto_spearman": ms["auto"]["spearman_source_accuracy"],
                "features": ms["features"]["accuracy"],
                "features_beats_best_single": ms["features"]["accuracy"]
                > r["best_single_accuracy"],
                "with_gold_auto": r["with_gold"]["auto_accuracy_on_rest"],
                "with_gold_best_single": r["with_gold"]["best_single_on_rest"],
                "with_gold_picked_on_gold": r["with_gold"]["picked_on_gold_accuracy_on_rest"],
                "with_gold_auto_beats_picked_on_gold": r["with_gold"]["auto_accuracy_on_rest"]
                > r["with_gold"]["picked_on_gold_accuracy_on_rest"],
                "with_gold_auto_choice": r["with_gold"]["auto_choice"],
                "with_gold_spearman": r["with_gold"]["spearman_source_accuracy"],
            }
        )
    for s in summary:
        print(s)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "aggregate_llm",
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "command": "python benchmarks/bench_aggregate_llm.py",
                "machine": f"{platform.machine()}, 2 CPU cores shared by ~8 concurrent agents",
                "versions": {"truelabel": truelabel.__version__, "python": sys.version.split()[0]},
                "notes": "Gold never shown to the label models (main columns). Best single model "
                "is picked with hindsight on gold. with_gold: 50 random gold items clamped and "
                "used by auto (whose candidates then include best_source); accuracy on the "
                "other gold items; 'picked_on_gold' = the single model best on the same 50 gold "
                "items (the fair comparator), 'best_single_on_rest' = hindsight best. Unparseable answers are abstentions. hippocorpus and sbic "
                "(free-text tasks) skipped. features = FeatureDawidSkene on MiniLM-L6 embeddings "
                "of the item texts (test.json context, row i = i-th entry).",
                "tasks": rows,
                "summary": summary,
            },
            indent=2,
        )
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

"""Where should the audit say "the cross-fitted model is near chance"?

The audit's noise estimate and flags come from out-of-sample probabilities; when those
are no better than chance (Cohen's kappa between argmax and the given labels near 0),
the estimate is meaningless (issue 14: a chance-level model reported 51% noise).
This measures that kappa on every real labelled set with text or given probabilities,
with the audit's own default end model on TF-IDF features (cheap, the weakest featurizer
shipped: the lowest kappas a user would see), and on the same sets with the labels
shuffled (a model that cannot be better than chance). A threshold is good when every real
set is above it and every shuffled one below.

    python benchmarks/experiments/audit_near_chance.py

Writes benchmarks/results/audit_near_chance.json.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import DATA, load_text_dataset, write_results  # noqa: E402
from truelabel.audit import audit, model_agreement  # noqa: E402
from truelabel.audit._health import NEAR_CHANCE_KAPPA  # noqa: E402

MAX_ROWS = 2000
#: sets also audited with shuffled labels (a model that cannot beat chance)
SHUFFLED = {"sst2", "ag_news", "wrench-sms", "snow-rte (crowd MV)", "css-emotion", "trec"}


def _sample(texts: list[str], y: np.ndarray, seed: int = 0) -> tuple[list[str], np.ndarray]:
    if len(texts) <= MAX_ROWS:
        return texts, y
    idx = np.sort(np.random.default_rng(seed).choice(len(texts), MAX_ROWS, replace=False))
    return [texts[i] for i in idx], y[idx]


def text_sets() -> dict[str, tuple[list[str], np.ndarray]]:
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for name in ("banking77", "ag_news", "20news"):
        t, y, _ = load_text_dataset(name)
        out[name] = _sample(t, y)
    sst = pd.read_csv(DATA / "text" / "sst2" / "train.tsv", sep="\t", quoting=3)
    out["sst2"] = _sample(sst["sentence"].astype(str).tolist(), sst["label"].to_numpy())
    trec = (DATA / "text" / "trec" / "train_5500.label").read_text(encoding="latin-1").splitlines()
    out["trec"] = _sample(
        [line.split(" ", 1)[1] for line in trec],
        np.unique([line.split(":", 1)[0] for line in trec], return_inverse=True)[1],
    )
    for w in ("sms", "youtube", "trec"):
        raw = json.loads((DATA / "weak-supervision" / "wrench" / w / "train.json").read_text())
        recs = list(raw.values())
        out[f"wrench-{w}"] = _sample(
            [str(r["data"]["text"]) for r in recs], np.array([r["label"] for r in recs])
        )
    rte = pd.read_csv(DATA / "crowd" / "snow2008" / "rte.standardized.tsv", sep="\t")
    mv = rte.groupby("orig_id")["response"].mean().round().astype(int)
    txt = pd.read_csv(DATA / "crowd" / "snow2008" / "rte_text.tsv", sep="\t").set_index("id")
    keep = mv.index.intersection(txt.index)
    out["snow-rte (crowd MV)"] = (
        (
            txt.loc[keep, "text"].astype(str) + " || " + txt.loc[keep, "hypothesis"].astype(str)
        ).tolist(),
        mv.loc[keep].to_numpy(),
    )
    amz = pd.read_csv(
        DATA / "crowd" / "amazon-sentiment-1k" / "1k_amazon_reviews_crowdsourced_transformed.csv"
    )
    out["amazon-1k (crowd)"] = (amz["text"].astype(str).tolist(), amz["Y"].to_numpy())
    css = DATA / "llm-labels" / "llms_for_css"
    for task in sorted(p.name for p in css.iterdir() if (p / "test.json").is_file()):
        d = json.loads((css / task / "test.json").read_text())
        ids = list(d["labels"])
        out[f"css-{task}"] = (
            [str(d["context"][i]) for i in ids],
            np.unique([str(d["labels"][i]) for i in ids], return_inverse=True)[1],
        )
    return out


def prob_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for name in ("cifar10", "mnist"):
        d = DATA / "label-errors" / "cleanlab" / name
        out[f"{name} (given probs)"] = (
            np.load(d / f"{name}_test_set_original_labels.npy"),
            np.load(d / f"{name}_test_set_pyx.npy"),
        )
    d = DATA / "label-errors" / "chaosnli"
    with gzip.open(d / "chaosNLI_snli.jsonl.gz", "rt") as fh:
        items = [json.loads(line) for line in fh]
    old = {str(r["uid"]): r["old_label"] for r in items}
    probs: dict[str, list[float]] = {}
    for half in ("dev", "test"):
        with gzip.open(d / "predictions" / f"SNLI_{half}_roberta-base_0.json.gz", "rt") as fh:
            for line in fh:
                r = json.loads(line)
                probs[str(r["uid"])] = r["probs"]
    order = {"e": 0, "c": 1, "n": 2}  # the predictions' class order (see the README)
    uids = [u for u in old if u in probs]
    out["chaosnli-snli (roberta probs)"] = (
        np.array([order[old[u]] for u in uids]),
        np.array([probs[u] for u in uids], dtype=np.float64),
    )
    return out


PARTIAL = Path(__file__).resolve().parents[1] / "results" / "audit_near_chance.partial.jsonl"


def main() -> None:
    import warnings

    from truelabel import InputError

    # rows already measured (the audits are slow on a busy machine): resume from them
    rows = [json.loads(x) for x in PARTIAL.read_text().splitlines()] if PARTIAL.exists() else []
    done = {(r["dataset"], r["labels"]) for r in rows}
    skipped = []
    for name, (texts, y) in text_sets().items():
        for shuffled in (False, True) if name in SHUFFLED else (False,):
            if (name, "shuffled" if shuffled else "given") in done:
                continue
            labels = np.random.default_rng(1).permutation(y) if shuffled else y
            df = pd.DataFrame({"text": texts, "label": labels})
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = audit(df, text="text", label="label", featurizer="tfidf")
            except InputError as exc:  # e.g. a task whose "labels" are free text
                skipped.append({"dataset": name, "reason": str(exc)[:120]})
                print("skipped", name, str(exc)[:120], flush=True)
                continue
            a = res.summary["model_agreement"]
            rows.append(
                {
                    "dataset": name,
                    "labels": "shuffled" if shuffled else "given",
                    "n": len(texts),
                    "classes": int(len(np.unique(labels))),
                    "features": "tfidf + default end model (5-fold)",
                    **{k: round(v, 4) for k, v in a.items()},
                    "noise_rate": round(res.summary["noise_rate"], 4),
                    "warned": bool(res.summary.get("warnings")),
                }
            )
            print(rows[-1], flush=True)
            with PARTIAL.open("a") as fh:
                fh.write(json.dumps(rows[-1]) + "\n")
    for name, (labels, pp) in prob_sets().items():
        for shuffled in (False, True):
            lab = np.random.default_rng(1).permutation(labels) if shuffled else labels
            a = model_agreement(lab, pp)
            rows.append(
                {
                    "dataset": name,
                    "labels": "shuffled" if shuffled else "given",
                    "n": int(len(lab)),
                    "classes": int(pp.shape[1]),
                    "features": "published out-of-sample probabilities",
                    **{k: round(v, 4) for k, v in a.items()},
                    "warned": a["kappa"] < NEAR_CHANCE_KAPPA,
                }
            )
            print(rows[-1], flush=True)
    given = [r["kappa"] for r in rows if r["labels"] == "given"]
    shuf = [r["kappa"] for r in rows if r["labels"] == "shuffled"]
    print(
        f"\n{'dataset':32s} {'labels':9s} {'n':>6s} {'K':>3s} {'acc':>6s} {'chance':>6s} {'kappa':>6s} warn"
    )
    for r in rows:
        print(
            f"{r['dataset']:32s} {r['labels']:9s} {r['n']:6d} {r['classes']:3d} "
            f"{r['accuracy']:6.3f} {r['chance']:6.3f} {r['kappa']:6.3f} {r['warned']}"
        )
    print(
        f"\ngiven labels: min kappa {min(given):.3f}; shuffled: max kappa {max(shuf):.3f}; "
        f"threshold {NEAR_CHANCE_KAPPA}"
    )
    write_results(
        "audit_near_chance",
        {
            "threshold": NEAR_CHANCE_KAPPA,
            "min_kappa_given": min(given),
            "max_kappa_shuffled": max(shuf),
            "loadavg": os.getloadavg(),
            "skipped": skipped,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()

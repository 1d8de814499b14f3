"""`truelabel label --multi` and `label --task token`: quality on real data (issue 17, part 4).

Three measurements, each with a named baseline in the same run:

1. **Zero-shot multi-label threshold** (no gold used to choose it). MiniLM zero-shot
   scores on GoEmotions dev (600 items, 28 tags, gold = the released labels) and CrowdTruth
   medical relations (948 sentences, 10 options, reference = per-option majority of the
   crowd's non-spam judgments, 15 per sentence: the experts judged only 2 of the options).
   Rules: top-1 only (baseline), top-1 plus every class with ``p >= a * p_max``, and
   top-1 plus every class with ``p >= c / K``. Micro and macro F1 per data set; the
   default is the rule with the best mean micro F1 over both.
2. **LLM multi-label** on a GoEmotions dev sample with the local llama.cpp server
   (SmolLM2-135M-Instruct, the model the test fixtures use); baselines: zero-shot multi
   (the default rule) and zero-shot top-1 on the same items.
3. **LLM entity spans** on a CoNLL-2003 dev sample with the same server: entity-level
   F1 (exact token span and type) against the gold tags, with the offset repair and
   without it (only spans whose given offsets were exact), next to a capitalised-run
   baseline (every maximal run of capitalised tokens, not sentence-initial, tagged with
   the most frequent entity type of CoNLL train).

    .venv/bin/python benchmarks/bench_label_tasks.py [--quick | --llm-only] [--n-llm 40]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "sources"))
DATA = ROOT.parent / "shared" / "datasets"
LOAD_BEFORE = os.getloadavg()[0]
MED_OPTIONS = [
    "treats", "causes", "associated_with", "diagnose_by_test_or_drug", "location", "part_of",
    "is_a", "contraindicates", "other", "none",
]  # fmt: skip


def goemotions(n: int, seed: int = 0) -> tuple[list[str], list[str], np.ndarray]:
    df = pd.read_csv(
        DATA / "multilabel/goemotions/dev.tsv.gz", sep="\t", header=None, names=["text", "y", "id"]
    )
    names = (DATA / "multilabel/goemotions/labels.txt").read_text().split()
    df = df.sample(n, random_state=seed)
    Y = np.zeros((len(df), len(names)), dtype=bool)
    for i, s in enumerate(df["y"].astype(str)):
        Y[i, [int(j) for j in s.split(",")]] = True
    return df["text"].tolist(), names, Y


def crowdtruth_medical() -> tuple[list[str], list[str], np.ndarray]:
    base = DATA / "crowd/crowdtruth-multiselect/cross_task"
    raw = pd.read_csv(base / "medical_raw.csv.gz")
    raw = raw[raw["spam"] == 0]
    agg = pd.read_csv(base / "medical_aggregated.csv")
    text = agg.drop_duplicates("Unit_Id").set_index("Unit_Id")["Unit"]
    raw = raw[raw["Sent_id"].isin(text.index)]
    sets = raw["judgement"].astype(str).map(lambda s: set(re.findall(r"\[([^\]]+)\]", s)))
    units = list(dict.fromkeys(raw["Sent_id"]))
    by_unit = sets.groupby(raw["Sent_id"]).apply(list)
    Y = np.array(
        [[np.mean([o in s for s in by_unit[u]]) >= 0.5 for o in MED_OPTIONS] for u in units]
    )
    return [str(text[u]) for u in units], [o.replace("_", " ") for o in MED_OPTIONS], Y


def f1(pred: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
    """Micro F1 and macro F1 (over tags present in the reference), pred/Y (N, K) bool."""
    tp = (pred & Y).sum(0)
    fp = (pred & ~Y).sum(0)
    fn = (~pred & Y).sum(0)
    micro = 2 * tp.sum() / max(2 * tp.sum() + fp.sum() + fn.sum(), 1)
    per = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    return float(micro), float(per[Y.any(0)].mean())


def rules(P: np.ndarray) -> dict[str, np.ndarray]:
    from truelabel.sources._zeroshot import multi_label_tags

    K = P.shape[1]
    top = P >= P.max(1, keepdims=True)
    out = {"top-1 only (baseline)": top}
    for a in (0.3, 0.5, 0.7):
        out[f"p >= {a} * p_max"] = P >= a * P.max(1, keepdims=True)
    for c in (1.0, 1.5, 2.0):
        out[f"p >= {c} / K"] = multi_label_tags(P, c / K)
    return out


def part_zero_shot(n_goemo: int) -> dict[str, object]:
    from truelabel.sources import ZeroShotLabeler

    table: dict[str, dict[str, object]] = {}
    for name, (texts, names, Y) in {
        "goemotions": goemotions(n_goemo),
        "crowdtruth-medical": crowdtruth_medical(),
    }.items():
        m = ZeroShotLabeler(names, featurizer="minilm").fit(texts)
        P = np.asarray(m.posterior_)
        for rule, pred in rules(P).items():
            mi, ma = f1(pred, Y)
            table.setdefault(rule, {})[name] = {
                "micro_f1": round(mi, 4),
                "macro_f1": round(ma, 4),
                "tags_per_item": round(float(pred.sum(1).mean()), 3),
            }
        table.setdefault("reference", {})[name] = {
            "n_items": len(texts),
            "n_tags": len(names),
            "tags_per_item": round(float(Y.sum(1).mean()), 3),
        }
    print("\nzero-shot multi-label rules (MiniLM), micro / macro F1")
    print(f"{'rule':26} {'GoEmotions':>16} {'CrowdTruth med':>16} {'mean micro':>10}")
    for rule, row in table.items():
        if rule == "reference":
            continue
        g, c = row["goemotions"], row["crowdtruth-medical"]
        mean = (g["micro_f1"] + c["micro_f1"]) / 2  # type: ignore[index]
        row["mean_micro_f1"] = round(mean, 4)
        print(
            f"{rule:26} {g['micro_f1']:.3f} / {g['macro_f1']:.3f}   "  # type: ignore[index]
            f"{c['micro_f1']:.3f} / {c['macro_f1']:.3f}   {mean:.3f}"  # type: ignore[index]
        )
    return table


def conll_sample(n: int, seed: int = 0) -> tuple[list[str], list[tuple[int, int, str]], object]:
    """n dev sentences (>= 4 tokens): texts (tokens joined by spaces) and gold token spans."""
    from truelabel.io._tokens import load_conll, tags_to_spans

    ds = load_conll(DATA / "token/conll2003/original/dev.txt.gz")
    lens = np.diff(ds.offsets)
    pick = np.sort(np.random.default_rng(seed).choice(np.flatnonzero(lens >= 4), n, replace=False))
    s0, s1, typ = tags_to_spans(ds.tags, ds.offsets)
    types = ds.entity_types
    sent_of = ds.sentence_of_token()
    texts, gold = [], []
    for j, s in enumerate(pick):
        texts.append(" ".join(ds.tokens[ds.offsets[s] : ds.offsets[s + 1]]))
        for a, b, t in zip(s0, s1, typ, strict=True):
            if sent_of[a] == s:
                gold.append((j, int(a - ds.offsets[s]), int(b - ds.offsets[s]), types[t]))
    return texts, gold, ds


def char_to_token(text: str, start: int, end: int) -> tuple[int, int]:
    """Token range [a, b) of a character span in a space-joined sentence (overlap rule)."""
    starts = np.cumsum([0] + [len(t) + 1 for t in text.split(" ")])[:-1]
    ends = starts + np.array([len(t) for t in text.split(" ")])
    cover = np.flatnonzero((starts < end) & (ends > start))
    return (int(cover[0]), int(cover[-1]) + 1) if len(cover) else (0, 0)


def entity_f1(pred: set[tuple[int, int, int, str]], gold: set[tuple[int, int, int, str]]) -> dict:
    tp = len(pred & gold)
    p = tp / max(len(pred), 1)
    r = tp / max(len(gold), 1)
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / max(p + r, 1e-12), 4),
        "n_pred": len(pred),
        "n_gold": len(gold),
    }


def capitalised_runs(texts: list[str], typ: str) -> set[tuple[int, int, int, str]]:
    out = set()
    for j, t in enumerate(texts):
        toks = t.split(" ")
        i = 0
        while i < len(toks):
            if i > 0 and toks[i][:1].isupper():
                k = i
                while k < len(toks) and toks[k][:1].isupper():
                    k += 1
                out.add((j, i, k, typ))
                i = k
            else:
                i += 1
    return out


def part_llm(n_llm: int, n_goemo: int, cache: Path | None = None) -> dict[str, object]:
    from llm_server import start_llama_server

    from truelabel.io._tokens import load_conll
    from truelabel.sources import LLMLabeler, ZeroShotLabeler
    from truelabel.sources._llm import label_with_llm
    from truelabel.sources._zeroshot import multi_label_tags, multi_label_threshold

    res: dict[str, object] = {"model": "SmolLM2-135M-Instruct Q4_1 (llama.cpp, xllamacpp)"}
    texts, gold, _ = conll_sample(n_llm)
    train = load_conll(DATA / "token/conll2003/original/train.txt.gz")
    from truelabel.io._tokens import tags_to_spans

    _, _, ttyp = tags_to_spans(train.tags, train.offsets)
    top_type = train.entity_types[int(np.bincount(ttyp).argmax())]
    g_texts, g_names, gY = goemotions(n_goemo)
    g_texts, gY = g_texts[:n_llm], gY[:n_llm]
    with tempfile.TemporaryDirectory() as tmp, start_llama_server(n_ctx=4096) as url:
        cache_path = cache if cache is not None else Path(tmp) / "c.sqlite"

        def llm() -> LLMLabeler:
            return LLMLabeler(
                url, "smollm2-135m", cache_path=cache_path, concurrency=1, timeout=300
            )

        t0 = time.perf_counter()
        out = label_with_llm(
            pd.DataFrame({"text": texts}),
            text_column="text",
            llm=llm(),
            classes="PER,ORG,LOC,MISC",
            task="token",
        )
        t_ner = time.perf_counter() - t0
        st = out.stats
        spans = out.votes.dropna(subset=["start"])
        ans = out.answers.set_index("item_id")
        pred, exact_only = set(), set()
        for r in spans.itertuples():
            j = int(r.item_id)
            a, b = char_to_token(texts[j], int(r.start), int(r.end))
            pred.add((j, a, b, str(r.label)))
        # without repair: only the spans whose given start was exact
        from truelabel.sources._llm_answers import (
            parse_json_answer,
            salvage_spans,
            spans_of_answer,
        )

        for j, raw in ans["raw"].items():
            given = spans_of_answer(parse_json_answer(raw))
            for sp in (salvage_spans(raw) if given is None else given) or []:
                if not isinstance(sp, dict) or sp.get("label") not in ("PER", "ORG", "LOC", "MISC"):
                    continue
                s, txt = sp.get("start"), sp.get("text")
                if isinstance(s, int) and isinstance(txt, str) and txt.strip() and s >= 0:
                    if texts[int(j)][s : s + len(txt.strip())] == txt.strip():
                        a, b = char_to_token(texts[int(j)], s, s + len(txt.strip()))
                        exact_only.add((int(j), a, b, sp["label"]))
        gold_set = set(gold)
        res["conll_dev"] = {
            "n_sentences": len(texts),
            "n_gold_entities": len(gold_set),
            "llm_spans_repaired": entity_f1(pred, gold_set),
            "llm_exact_offsets_only": entity_f1(exact_only, gold_set),
            f"baseline_capitalised_runs_as_{top_type}": entity_f1(
                capitalised_runs(texts, top_type), gold_set
            ),
            "span_counts": {k: v for k, v in st.items() if k.startswith("n_spans")},
            "n_abstain": st["n_abstain"],
            "n_answers_cut_off": int(out.answers["truncated"].sum()),
            "n_answers_salvaged": st.get("n_answers_salvaged", 0),
            "seconds": round(t_ner, 1),
        }
        t0 = time.perf_counter()
        outm = label_with_llm(
            pd.DataFrame({"text": g_texts}),
            text_column="text",
            llm=llm(),
            classes=",".join(g_names),
            task="multilabel",
        )
        t_multi = time.perf_counter() - t0
        lab = outm.votes.set_index("item_id")["label"].reindex(range(len(g_texts)))
        predm = np.zeros_like(gY)
        for i, v in enumerate(lab):
            if isinstance(v, str) and v:
                predm[i, [g_names.index(t) for t in v.split(",")]] = True
        zs = ZeroShotLabeler(g_names, featurizer="minilm").fit(g_texts)
        P = np.asarray(zs.posterior_)
        zs_multi = multi_label_tags(P, multi_label_threshold(len(g_names)))
        zs_top = P >= P.max(1, keepdims=True)
        prior = np.zeros_like(gY)
        prior[:, g_names.index("neutral")] = True
        res["goemotions_dev"] = {
            "n_items": len(g_texts),
            "llm_multi": dict(zip(("micro_f1", "macro_f1"), f1(predm, gY), strict=True)),
            "llm_tags_per_item": float(predm.sum(1).mean()),
            "zero_shot_multi_default": dict(
                zip(("micro_f1", "macro_f1"), f1(zs_multi, gY), strict=True)
            ),
            "zero_shot_top1": dict(zip(("micro_f1", "macro_f1"), f1(zs_top, gY), strict=True)),
            "baseline_always_neutral": dict(
                zip(("micro_f1", "macro_f1"), f1(prior, gY), strict=True)
            ),
            "n_abstain": outm.stats["n_abstain"],
            "n_tags_repaired": outm.stats.get("n_tags_repaired", 0),
            "n_tags_rejected": outm.stats.get("n_tags_rejected", 0),
            "seconds": round(t_multi, 1),
        }
    c = res["conll_dev"]
    print(
        f"\nCoNLL-2003 dev, {c['n_sentences']} sentences, {c['n_gold_entities']} entities: entity F1"
    )  # type: ignore[index]
    for k in ("llm_spans_repaired", "llm_exact_offsets_only"):
        print(f"  {k:40} {c[k]}")  # type: ignore[index]
    print(f"  {'baseline capitalised runs':40} {c[f'baseline_capitalised_runs_as_{top_type}']}")  # type: ignore[index]
    print(f"  span counts {c['span_counts']}")  # type: ignore[index]
    g = res["goemotions_dev"]
    print(f"\nGoEmotions dev, {g['n_items']} items: micro / macro F1")  # type: ignore[index]
    for k in ("llm_multi", "zero_shot_multi_default", "zero_shot_top1", "baseline_always_neutral"):
        v = g[k]  # type: ignore[index]
        print(f"  {k:28} {v['micro_f1']:.3f} / {v['macro_f1']:.3f}")
    return res


def main() -> None:
    from _common import write_results

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="zero-shot part only")
    ap.add_argument("--llm-only", action="store_true", help="LLM part only (keeps the rest)")
    ap.add_argument("--cache", type=Path, default=None, help="LLM answer cache (default: none)")
    ap.add_argument("--n-llm", type=int, default=40, help="items per LLM sample")
    ap.add_argument("--n-goemotions", type=int, default=600)
    args = ap.parse_args()
    t0 = time.perf_counter()
    old = ROOT / "benchmarks" / "results" / "label_tasks.json"
    payload: dict[str, object] = json.loads(old.read_text()) if old.exists() else {}
    if not args.llm_only:
        payload["zero_shot_multi_rules"] = part_zero_shot(args.n_goemotions)
    if not args.quick:
        payload["llm"] = part_llm(args.n_llm, args.n_goemotions, args.cache)
    payload["seconds"] = round(time.perf_counter() - t0, 1)
    payload["loadavg_before"] = LOAD_BEFORE
    payload["loadavg_after"] = os.getloadavg()[0]
    p = write_results("label_tasks", payload)
    print(f"\nwrote {p}")
    print(json.dumps({"loadavg": [LOAD_BEFORE, os.getloadavg()[0]]}))


if __name__ == "__main__":
    main()

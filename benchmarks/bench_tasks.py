"""Task types beyond single-label classification: the token / span section.

Token audit (CoNLL-2003 English NER, ``token/conll2003``): the default audit (5-fold
cross-fitted CRF tagger) on train and dev; every region of overlapping given/suggested
entities is ranked, and a region counts as a real error when it touches a correction of
Reiss et al. (2020) (all of them, and only the label kinds Tag/Span/Both/Missing/Wrong),
or, on dev, a token CleanCoNLL relabelled. cleanlab 2.9's ``token_classification`` runs on
the *same* token probabilities: its token scores (``rank.get_label_quality_scores``) give a
region the score of its lowest token, its sentence scores (the lowest token score, its default) rank sentences, and its
``filter.find_label_issues`` flags tokens.

Span aggregation (PICO ``crowd/pico-spans``): token F1 against the medical student on
``acl17-test``, for truelabel's ``ds`` / ``hmm`` / ``mv`` span aggregation (votes of
acl17-test only, and of all four splits — unlabelled crowd votes, no gold) next to the
paper's shipped MajorityVote / DawidSkene / HMMCrowd spans, all tokenised alike.

Token training: the CRF tagger (``train --task token``) trained on the original CoNLL
train tags and on the ReCoNLL-corrected ones; entity F1 on dev and test.

    .venv/bin/python benchmarks/bench_tasks.py [--parts audit,aggregate,train] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from _common import DATA, machine, write_results
from truelabel.audit import decode_tags, find_entity_issues, get_token_label_quality
from truelabel.audit._tokens import _range_min
from truelabel.io._tokens import TokenDataset, char_spans_to_token_spans, load_conll

CONLL = DATA / "token" / "conll2003"
PICO = DATA / "crowd" / "pico-spans"
LABEL_KINDS = {"Tag", "Span", "Both", "Missing", "Wrong"}


# --------------------------------------------------------------------------- CoNLL truth


def _aligned(fold: str) -> tuple[pd.DataFrame, np.ndarray]:
    a = pd.read_csv(CONLL / "aligned" / f"{fold}_aligned.csv.gz", keep_default_na=False)
    is_doc = (a["token"] == "-DOCSTART-").to_numpy()
    return a, np.cumsum(~is_doc) - 1  # token index of each aligned row


def reiss_ranges(fold: str) -> list[tuple[int, int, str]]:
    """Token ranges [first, last + 1) touched by each Reiss et al. correction."""
    _, tok = _aligned(fold)
    r = pd.read_csv(CONLL / "reiss2020" / "all_conll_corrections_combined_with_rows.csv")
    out = []
    for x in r[r["fold"] == fold].itertuples():
        rs = [
            (int(tok[int(f)]), int(tok[int(last)]) + 1)
            for f, last in (
                (x.corpus_row_first, x.corpus_row_last),
                (x.correct_row_first, x.correct_row_last),
            )
            if pd.notna(f) and pd.notna(last)
        ]
        if rs:
            out.append((min(s for s, _ in rs), max(e for _, e in rs), str(x.error_type)))
    return out


def cleanconll_truth(ds: TokenDataset) -> tuple[np.ndarray, np.ndarray]:
    """Per token: CleanCoNLL tag differs from the given one; token in a re-tokenised sentence."""
    a, _ = _aligned("dev")
    a = a[a["token"] != "-DOCSTART-"]
    clean = a["ner_cleanconll"].to_numpy()
    split = a["cleanconll_token_split"].astype(str).str.lower().eq("true").to_numpy()
    given = np.asarray(ds.tag_names, dtype=object)[ds.tags]
    sent = ds.sentence_of_token()
    bad_sent = np.zeros(ds.n_sentences, dtype=bool)
    bad_sent[sent[split]] = True
    return (clean != given), bad_sent[sent]


def _ap_pk(score: np.ndarray, y: np.ndarray) -> dict[str, float]:
    order = np.argsort(score, kind="stable")
    out = {"AP": round(float(average_precision_score(y, -score)), 4)}
    for k in (100, 500):
        out[f"P@{k}"] = round(float(y[order[:k]].mean()), 4)
    out["P@R"] = round(float(y[order[: int(y.sum())]].mean()), 4)
    return out


def _flag_prf(flag: np.ndarray, y: np.ndarray) -> dict[str, float]:
    tp = float((flag & y).sum())
    p, r = tp / max(flag.sum(), 1), tp / max(y.sum(), 1)
    return {
        "flagged": int(flag.sum()),
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / max(p + r, 1e-12), 4),
    }


def audit_fold(fold: str) -> dict[str, Any]:
    import cleanlab.token_classification.filter as clf
    import cleanlab.token_classification.rank as clr

    from truelabel.audit import audit_tokens

    path = CONLL / "original" / f"{fold}.txt.gz"
    ds = load_conll(path)
    assert ds.tags is not None
    t0 = time.perf_counter()
    load0 = os.getloadavg()
    res = audit_tokens(path)  # the CLI default: 5 folds, seed 0
    wall = time.perf_counter() - t0
    P = res.pred_probs
    n = ds.n_tokens
    ent = find_entity_issues(ds.tags, P, ds.offsets, suggested=decode_tags(P, ds.offsets))
    # truelabel's flags per region, from the result table put back in token order
    flags_tbl = res.entities.sort_values(["sentence_id", "start"], kind="stable")
    ent_flag = flags_tbl["is_label_issue"].to_numpy()
    ours_region = ent.quality.astype(np.float64)

    labels = [ds.tags[ds.offsets[i] : ds.offsets[i + 1]] for i in range(ds.n_sentences)]
    probs = [P[ds.offsets[i] : ds.offsets[i + 1]] for i in range(ds.n_sentences)]
    t1 = time.perf_counter()
    cl_sent, cl_tok_list = clr.get_label_quality_scores(labels, probs)
    cl_tok = np.concatenate(cl_tok_list)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cl_issues = clf.find_label_issues(labels, probs)
    cl_s = time.perf_counter() - t1
    cl_tok_flag = np.zeros(n, dtype=bool)
    for s, t in cl_issues:
        cl_tok_flag[ds.offsets[s] + t] = True
    cl_region = _range_min(cl_tok.astype(np.float64), ent.start, ent.end)
    cl_region_flag = _range_min((~cl_tok_flag).astype(np.float64), ent.start, ent.end) == 0

    sent = ds.sentence_of_token()
    truths: dict[str, np.ndarray] = {}
    R = reiss_ranges(fold)
    for name, kinds in (("reiss_all", None), ("reiss_label_kinds", LABEL_KINDS)):
        m = np.zeros(n, dtype=bool)
        for s, e, k in R:
            if kinds is None or k in kinds:
                m[s:e] = True
        truths[name] = m
    exclude = np.zeros(n, dtype=bool)
    if fold == "dev":
        diff, split = cleanconll_truth(ds)
        truths["cleanconll"] = diff & ~split
        exclude = split
    covered = np.zeros(n, dtype=bool)
    lens = ent.end - ent.start
    covered[
        np.repeat(ent.start, lens)
        + (np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens))
    ] = True
    region_ok = _range_min(exclude.astype(np.float64), ent.start, ent.end) == 0
    out: dict[str, Any] = {
        "n_tokens": n,
        "n_sentences": ds.n_sentences,
        "n_regions": int(len(ent.kind)),
        "audit_wall_s": round(wall, 1),
        "cleanlab_rank_and_filter_s": round(cl_s, 1),
        "loadavg_before_after": [round(load0[0], 1), round(os.getloadavg()[0], 1)],
        "token_agreement_of_suggestions_with_given": round(
            float((decode_tags(P, ds.offsets) == ds.tags).mean()), 4
        ),
        "truths": {},
    }
    for name, tok_truth in truths.items():
        y = _range_min((~tok_truth).astype(np.float64), ent.start, ent.end) == 0
        keep = region_ok
        entry: dict[str, Any] = {
            "positive_regions": int(y[keep].sum()),
            "truth_tokens_outside_regions": int((tok_truth & ~covered).sum()),
            "regions": {
                "truelabel": _ap_pk(ours_region[keep], y[keep]),
                "cleanlab (min token score)": _ap_pk(cl_region[keep], y[keep]),
            },
            "flags": {
                "truelabel": _flag_prf(ent_flag[keep], y[keep]),
                "cleanlab find_label_issues": _flag_prf(cl_region_flag[keep], y[keep]),
            },
        }
        s_y = np.zeros(ds.n_sentences, dtype=bool)
        np.logical_or.at(s_y, sent, tok_truth)
        s_ours = np.ones(ds.n_sentences)
        np.minimum.at(s_ours, ent.sentence, ours_region)
        tokq = get_token_label_quality(ds.tags, P).astype(np.float64)
        np.minimum.at(s_ours, sent, tokq)  # sentences without regions: their lowest token
        s_keep = np.ones(ds.n_sentences, dtype=bool)
        s_keep[sent[exclude]] = False
        entry["sentences"] = {
            "positives": int(s_y[s_keep].sum()),
            "truelabel": _ap_pk(s_ours[s_keep], s_y[s_keep]),
            "cleanlab (min sentence score)": _ap_pk(np.asarray(cl_sent)[s_keep], s_y[s_keep]),
        }
        out["truths"][name] = entry
    return out


# --------------------------------------------------------------------------- PICO


def _jsonl(path: Any) -> list[dict[str, Any]]:
    with gzip.open(path, "rt") as fh:
        return [json.loads(line) for line in fh]


def pico_tables(split: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The crowd spans of a split as a span-votes table and the docs as a data table."""
    crowd = _jsonl(PICO / "annotations" / split / "PICO-annos-crowdsourcing.json.gz")
    ids = {d["docid"] for d in crowd}
    docs = [d for d in _jsonl(PICO / "docs.jsonl.gz") if d["docid"] in ids]
    data = pd.DataFrame(docs).rename(columns={"docid": "item_id"})
    rows = []
    for d in crowd:
        for w, spans in d["Participants"].items():
            if not spans:
                rows.append((d["docid"], w, None, None, "Participants"))
            rows += [(d["docid"], w, s, e, "Participants") for s, e in spans]
    return pd.DataFrame(rows, columns=["item_id", "source", "start", "end", "label"]), data


def pico_spans(split: str, fname: str, who: str) -> dict[str, list[list[int]]]:
    return {
        d["docid"]: d["Participants"].get(who, [])
        for d in _jsonl(PICO / "annotations" / split / fname)
    }


def _token_mask(tok: TokenDataset, spans: dict[str, list[list[int]]]) -> np.ndarray:
    m = np.zeros(tok.n_tokens, dtype=bool)
    ids = pd.Index(np.asarray(tok.item_ids).astype(str))
    rows = [(ids.get_loc(d), s, e) for d, sp in spans.items() if d in ids for s, e in sp]
    if rows:
        it, st, en = (np.array(x) for x in zip(*rows, strict=True))
        assert tok.char_start is not None and tok.char_end is not None
        f, last = char_spans_to_token_spans(it, st, en, tok.offsets, tok.char_start, tok.char_end)
        for a, b in zip(f, last, strict=True):
            m[a:b] = True
    return m


def _prf(pred: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    tp = float((pred & gold).sum())
    p, r = tp / max(pred.sum(), 1), tp / max(gold.sum(), 1)
    return {"P": round(p, 4), "R": round(r, 4), "F1": round(2 * p * r / max(p + r, 1e-12), 4)}


def aggregate_pico(quick: bool) -> dict[str, Any]:
    from truelabel.aggregate import aggregate_spans
    from truelabel.sources._spans import span_votes_from_table

    test_votes, test_docs = pico_tables("acl17-test")
    tok = span_votes_from_table(test_votes, test_docs).tokens
    gold = _token_mask(
        tok, pico_spans("acl17-test", "PICO-annos-professional.json.gz", "MedicalStudent")
    )
    out: dict[str, Any] = {
        "n_docs": len(test_docs),
        "n_tokens": tok.n_tokens,
        "gold_tokens": int(gold.sum()),
    }
    shipped = {}
    for name in ("MajorityVote", "DawidSkene", "HMMCrowd"):
        spans = pico_spans("acl17-test", "PICO-annos-crowdsourcing-agg.json.gz", name)
        shipped[name] = _prf(_token_mask(tok, spans), gold)
    out["shipped (Nguyen et al. 2017)"] = shipped
    settings = [("acl17-test votes", ["acl17-test"])]
    if not quick:
        settings.append(("all splits' votes", ["acl17-test", "train", "dev", "test"]))
    for label, splits in settings:
        parts = [pico_tables(s) for s in splits]
        votes = pd.concat([p[0] for p in parts], ignore_index=True)
        data = pd.concat([p[1] for p in parts], ignore_index=True).drop_duplicates("item_id")
        res_set: dict[str, Any] = {"n_docs": len(data), "n_span_rows": len(votes)}
        for method in ("mv", "ds", "hmm"):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = aggregate_spans(votes, data, method=method)
            secs = time.perf_counter() - t0
            spans: dict[str, list[list[int]]] = {}
            for r in res.labels.itertuples(index=False):
                spans.setdefault(str(r.item_id), []).append([int(r.start), int(r.end)])
            res_set[method] = {**_prf(_token_mask(tok, spans), gold), "seconds": round(secs, 1)}
        out[label] = res_set
    return out


# --------------------------------------------------------------------------- training


def train_conll(quick: bool) -> dict[str, Any]:
    from truelabel.learn import entity_f1, train_tagger

    out: dict[str, Any] = {}
    dev = load_conll(CONLL / "original" / "dev.txt.gz")
    test = load_conll(CONLL / "original" / "test.txt.gz")
    for name, path in (
        ("original train", CONLL / "original" / "train.txt.gz"),
        ("ReCoNLL train", CONLL / "reconll" / "ReC_train.txt.gz"),
    ):
        t0 = time.perf_counter()
        tt = train_tagger(path, holdout=0.0)
        secs = time.perf_counter() - t0
        row: dict[str, Any] = {"fit_seconds": round(secs, 1)}
        for split, ds in (("dev", dev), ("test", test)):
            assert ds.tags is not None
            row[split] = entity_f1(ds.tags, tt.predict(ds), ds.offsets)
        out[name] = row
        if quick:
            break
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="audit,aggregate,train")
    ap.add_argument("--folds", default="dev,train", help="CoNLL folds to audit")
    ap.add_argument("--quick", action="store_true", help="dev only, acl17 votes only, one train")
    args = ap.parse_args()
    parts = args.parts.split(",")
    payload: dict[str, Any] = {"machine": machine()}
    if "audit" in parts:
        folds = ["dev"] if args.quick else args.folds.split(",")
        payload["token_audit"] = {f: audit_fold(f) for f in folds}
        for f, r in payload["token_audit"].items():
            print(f"\n== CoNLL {f}: {r['n_regions']} regions, audit {r['audit_wall_s']} s")
            for t, e in r["truths"].items():
                print(f"  {t}: {e['positive_regions']} positive regions")
                for m, v in e["regions"].items():
                    print(f"    regions   {m:32s} {v}")
                for m, v in e["sentences"].items():
                    if m != "positives":
                        print(f"    sentences {m:32s} {v}")
                for m, v in e["flags"].items():
                    print(f"    flags     {m:32s} {v}")
    if "aggregate" in parts:
        payload["span_aggregation_pico"] = agg = aggregate_pico(args.quick)
        print("\n== PICO acl17-test token P/R/F1 vs the medical student")
        for k, v in agg.items():
            print(f"  {k}: {v}")
    if "train" in parts:
        payload["token_training"] = tr = train_conll(args.quick)
        print("\n== CRF tagger, entity F1")
        for k, v in tr.items():
            print(f"  {k}: {v}")
    name = "tasks_token" + ("_quick" if args.quick else "")
    if args.parts != "audit,aggregate,train":
        name += "_" + "_".join(parts)
    print("results:", write_results(name, payload))


if __name__ == "__main__":
    main()

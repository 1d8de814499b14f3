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


def reiss_corrected_tags(ds: TokenDataset, fold: str = "train") -> tuple[np.ndarray, int]:
    """The tags of a fold (train or dev) with the Reiss et al. label corrections applied (kinds Tag, Span,
    Both, Missing, Wrong: each corrected span's given entity erased, then the correct
    span written as ``B-``/``I-`` of the correct type; the Sentence/Token kinds fix
    sentence boundaries or tokenisation, which relabelling cannot express, and are left
    out). Returns the tags and the number of corrections applied."""
    assert ds.tags is not None
    _, tok = _aligned(fold)
    r = pd.read_csv(CONLL / "reiss2020" / "all_conll_corrections_combined_with_rows.csv")
    r = r[(r["fold"] == fold) & r["error_type"].isin(LABEL_KINDS)]
    tags = ds.tags.copy()
    types = [t[2:] for t in ds.tag_names[1::2]]
    for x in r.itertuples():  # erase every corrected span first, then write the corrections
        if pd.notna(x.corpus_row_first) and pd.notna(x.corpus_row_last):
            tags[int(tok[int(x.corpus_row_first)]) : int(tok[int(x.corpus_row_last)]) + 1] = 0
    n = 0
    for x in r.itertuples():
        if pd.notna(x.correct_row_first) and pd.notna(x.correct_ent_type):
            a, b = int(tok[int(x.correct_row_first)]), int(tok[int(x.correct_row_last)]) + 1
            k = types.index(str(x.correct_ent_type))
            tags[a] = 1 + 2 * k
            tags[a + 1 : b] = 2 + 2 * k
        n += 1
    return tags, n


def _write_conll_tags(ds: TokenDataset, tags: np.ndarray, rows: np.ndarray, path: Any) -> None:
    """Sentences ``rows`` of ``ds`` with ``tags`` as a two-column CoNLL file (IOB2)."""
    names = np.asarray(ds.tag_names, dtype=object)
    lines: list[str] = []
    for s in rows:
        a, b = int(ds.offsets[s]), int(ds.offsets[s + 1])
        lines += [f"{w} {t}" for w, t in zip(ds.tokens[a:b], names[tags[a:b]], strict=True)]
        lines.append("")
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def cleaned_train_sets(ds: TokenDataset, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """truelabel's own cleaning of the original train tags from ``audit_tokens`` (the CLI
    default: 5-fold cross-fitted CRF): ``drop`` leaves out every sentence with a flagged
    token; ``relabel`` gives the tokens of every flagged entity region the suggested
    (Viterbi-decoded) tags. Returns {name: (tags, sentence rows)} and audit facts."""
    from truelabel.audit import audit_tokens

    assert ds.tags is not None
    t0 = time.perf_counter()
    res = audit_tokens(CONLL / "original" / "train.txt.gz", random_state=seed)
    secs = time.perf_counter() - t0
    iss = res.issues
    g = ds.offsets[iss["sentence_id"].to_numpy()] + iss["token_index"].to_numpy()
    flag = np.zeros(ds.n_tokens, dtype=bool)
    flag[g[iss["is_label_issue"].to_numpy()]] = True
    code = {t: i for i, t in enumerate(ds.tag_names)}
    suggested = np.empty(ds.n_tokens, dtype=np.int64)
    suggested[g] = iss["suggested_label"].map(code).to_numpy()
    region = np.zeros(ds.n_tokens, dtype=bool)
    ent = res.entities[res.entities["is_label_issue"]]
    for s, a, b in zip(ent["sentence_id"], ent["start"], ent["end"], strict=True):
        region[ds.offsets[s] + a : ds.offsets[s] + b] = True
    sent = ds.sentence_of_token()
    bad = np.zeros(ds.n_sentences, dtype=bool)
    bad[sent[flag | region]] = True
    relabel = ds.tags.copy()
    relabel[region] = suggested[region]
    all_rows = np.arange(ds.n_sentences)
    sets = {
        "truelabel audit: drop flagged sentences": (ds.tags, all_rows[~bad]),
        "truelabel audit: relabel flagged entities": (relabel, all_rows),
    }
    info = {
        "audit_seconds": round(secs, 1),
        "flagged_tokens": int(flag.sum()),
        "flagged_entity_regions": int(len(ent)),
        "sentences_dropped": int(bad.sum()),
        "tokens_relabelled": int((relabel != ds.tags).sum()),
    }
    return sets, info


def _fit_row(
    train: TokenDataset,
    tags_rows: tuple[np.ndarray, np.ndarray],
    name: str,
    seed: int,
    evals: dict[str, tuple[TokenDataset, np.ndarray, np.ndarray]],
    out: dict[str, Any],
    tmp: str,
) -> None:
    """Fit ``train_tagger`` on one training set (written as a CoNLL file) and score it."""
    from truelabel.learn import entity_f1, train_tagger

    tags, rows = tags_rows
    path = os.path.join(tmp, "train.txt.gz")
    _write_conll_tags(train, tags, rows, path)
    t0 = time.perf_counter()
    tt = train_tagger(path, holdout=0.0, random_state=seed)
    row: dict[str, Any] = {
        "fit_seconds": round(time.perf_counter() - t0, 1),
        "loadavg": round(os.getloadavg()[0], 1),
        "n_sentences": len(rows),
    }
    preds = {}
    for split, (ds, gold, keep) in evals.items():
        if id(ds) not in preds:
            preds[id(ds)] = tt.predict(ds)
        sub = ds.sentences(np.flatnonzero(keep))
        pred = preds[id(ds)][_ranges_of(ds, keep)]
        row[split] = entity_f1(gold[_ranges_of(ds, keep)], pred, sub.offsets)
    out.setdefault(name, {})[f"seed{seed}"] = row
    print(
        f"  seed {seed} {name}: "
        + ", ".join(f"{k} {row[k]['f1']}" for k in evals)
        + f" ({row['fit_seconds']} s, load {row['loadavg']})",
        flush=True,
    )


def _ranges_of(ds: TokenDataset, keep: np.ndarray) -> np.ndarray:
    """Token mask of the sentences ``keep`` (bool, one per sentence)."""
    return np.repeat(keep, np.diff(ds.offsets))


def summarise_training(out: dict[str, Any]) -> dict[str, Any]:
    """Mean and standard deviation over seeds of each training set's entity F1 per
    evaluation set, and the mean of the per-seed differences to the original train."""
    sets = {k: v for k, v in out.items() if isinstance(v, dict) and "seed0" in v}
    base = sets.get("original train", {})
    res: dict[str, Any] = {}
    for name, seeds in sets.items():
        row: dict[str, Any] = {"seeds": len(seeds)}
        for ev in seeds["seed0"]:
            if not isinstance(seeds["seed0"][ev], dict):
                continue
            f = np.array([seeds[s][ev]["f1"] for s in seeds])
            d = np.array([seeds[s][ev]["f1"] - base[s][ev]["f1"] for s in seeds if s in base])
            row[ev] = {
                "f1_mean": round(float(f.mean()), 4),
                "f1_sd": round(float(f.std(ddof=1)), 4) if len(f) > 1 else None,
                "minus_original_mean": round(float(d.mean()), 4) if len(d) else None,
                "minus_original_per_seed": [round(float(x), 4) for x in d],
            }
        res[name] = row
    return res


def train_conll(quick: bool, seeds: int = 1, out_path: str = "tasks_token_train") -> dict[str, Any]:
    """``train --task token`` (``train_tagger``, holdout 0, default CRF) on the original
    train tags, on the Reiss-corrected and the ReCoNLL-corrected tags, and on the original
    tags after truelabel's own audit-based cleaning; entity F1 on dev and test. Partial
    results are written to ``out_path`` after every fit."""
    import tempfile

    out: dict[str, Any] = {"loadavg_start": round(os.getloadavg()[0], 1)}
    dev = load_conll(CONLL / "original" / "dev.txt.gz")
    test = load_conll(CONLL / "original" / "test.txt.gz")
    train = load_conll(CONLL / "original" / "train.txt.gz")
    assert train.tags is not None and dev.tags is not None and test.tags is not None
    dev_reiss, _ = reiss_corrected_tags(dev, "dev")
    a, _ = _aligned("dev")
    a = a[a["token"] != "-DOCSTART-"]
    code = {t: i for i, t in enumerate(dev.tag_names)}
    dev_clean = a["ner_cleanconll"].map(code).to_numpy()
    split = a["cleanconll_token_split"].astype(str).str.lower().eq("true").to_numpy()
    bad = np.zeros(dev.n_sentences, dtype=bool)
    bad[dev.sentence_of_token()[split]] = True
    every = np.ones(dev.n_sentences, dtype=bool)
    evals = {
        "dev (original)": (dev, dev.tags, every),
        "dev (Reiss-corrected)": (dev, dev_reiss, every),
        "dev (CleanCoNLL, re-tokenised sentences left out)": (dev, dev_clean, ~bad),
        "test (original; no corrections published)": (
            test,
            test.tags,
            np.ones(test.n_sentences, dtype=bool),
        ),
    }
    out["dev_cleanconll_sentences_left_out"] = int(bad.sum())
    out["dev_reiss_tokens_changed"] = int((dev_reiss != dev.tags).sum())
    all_rows = np.arange(train.n_sentences)
    if quick:  # a stated subsample: the first 3,000 sentences
        all_rows = all_rows[:3000]
    reiss, n_reiss = reiss_corrected_tags(train)
    out["reiss_corrections_applied"] = n_reiss
    out["reiss_tokens_changed"] = int((reiss != train.tags).sum())
    sets: dict[str, Any] = {
        "original train": (train.tags, all_rows),
        "Reiss-corrected train": (reiss, all_rows),
    }
    rec = load_conll(CONLL / "reconll" / "ReC_train.txt.gz")
    if rec.n_tokens == train.n_tokens and rec.tags is not None:
        rec_tags = np.asarray(
            [train.tag_names.index(t) for t in np.asarray(rec.tag_names)[rec.tags]]
        )
        out["reconll_tokens_changed"] = int((rec_tags != train.tags).sum())
        sets["ReCoNLL train (seed 0 only)"] = (rec_tags, all_rows)
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            for name, tr in sets.items():
                if seed and name.endswith("(seed 0 only)"):
                    continue
                _fit_row(train, tr, name, seed, evals, out, tmp)
                write_results(out_path, {"machine": machine(), "token_training": out})
            if seed == 0 and not quick:  # the audit once (seed 0); its sets for every seed
                clean, info = cleaned_train_sets(train, 0)
                out["audit_seed0"] = info
                for name, tr in clean.items():
                    _fit_row(train, tr, name, seed, evals, out, tmp)
                    write_results(out_path, {"machine": machine(), "token_training": out})
                sets.update(clean)
    out["mean_over_seeds"] = summarise_training(out)
    write_results(out_path, {"machine": machine(), "token_training": out})
    return out


# =========================================================================== multi-label and
# regression section (audit --task multilabel / regression, aggregate --label-type multilabel)

GOEMO = DATA / "multilabel" / "goemotions"
MOVIES = DATA / "regression" / "moviereviews-crowd"
CROWDTRUTH = DATA / "crowd" / "crowdtruth-multiselect"
#: GoEmotions' own grouping of its 27 emotions into Ekman's six (Demszky et al. 2020):
#: a "similar emotion" swap replaces a tag by another of the same group.
EKMAN = {
    "anger": ["anger", "annoyance", "disapproval"],
    "disgust": ["disgust"],
    "fear": ["fear", "nervousness"],
    "joy": [
        "joy",
        "amusement",
        "approval",
        "excitement",
        "gratitude",
        "love",
        "optimism",
        "relief",
        "pride",
        "admiration",
        "desire",
        "caring",
    ],
    "sadness": ["sadness", "disappointment", "embarrassment", "grief", "remorse"],
    "surprise": ["surprise", "realization", "confusion", "curiosity"],
}


def goemotions(split: str) -> tuple[list[str], np.ndarray, list[str]]:
    """Texts, the (N, 28) 0/1 tag matrix and the tag names of a GoEmotions split."""
    names = (GOEMO / "labels.txt").read_text().split()
    d = pd.read_csv(
        GOEMO / f"{split}.tsv.gz", sep="\t", header=None, names=["text", "labels", "id"], quoting=3
    )
    Y = np.zeros((len(d), len(names)), dtype=np.int8)
    for i, labs in enumerate(d["labels"].astype(str)):
        Y[i, [int(x) for x in labs.split(",")]] = 1
    return d["text"].astype(str).tolist(), Y, names


def inject_multilabel_noise(
    Y: np.ndarray, names: list[str], rate: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Change ``rate`` of the items, each by one of: drop a tag, add a random tag, swap a tag
    for a similar emotion (same Ekman group; items without a swappable tag get an add).

    Returns the noisy matrix and the 0/1 vector of changed items.
    """
    rng = np.random.default_rng(seed)
    Yn = Y.copy()
    n, t = Y.shape
    group = {names.index(e): g for g, es in EKMAN.items() for e in es}
    changed = rng.choice(n, size=int(round(rate * n)), replace=False)
    kinds = rng.integers(0, 3, size=len(changed))
    for i, kind in zip(changed, kinds, strict=True):
        have = np.flatnonzero(Yn[i])
        swappable = [j for j in have if j in group and len(EKMAN[group[j]]) > 1]
        if kind == 0 and len(have):
            Yn[i, rng.choice(have)] = 0
        elif kind == 2 and swappable:
            j = int(rng.choice(swappable))
            options = [names.index(e) for e in EKMAN[group[j]] if not Yn[i, names.index(e)]]
            if options:
                Yn[i, j] = 0
                Yn[i, int(rng.choice(options))] = 1
            else:
                Yn[i, j] = 0
        else:
            Yn[i, rng.choice(np.flatnonzero(Yn[i] == 0))] = 1
    truth = (Yn != Y).any(axis=1).astype(int)
    return Yn, truth


def audit_multilabel_goemotions(
    quick: bool, splits: list[str] | None = None, featurizer: str = "minilm"
) -> dict[str, Any]:
    """AP of finding the changed items at 10% and 20% noise: truelabel's item quality vs
    cleanlab's ``multilabel_classification.get_label_quality_scores`` on the same
    cross-fitted probabilities; flags P/R/F1 of ``find_multilabel_issues``."""
    from cleanlab.multilabel_classification import get_label_quality_scores as cl_scores

    from truelabel.audit import find_multilabel_issues, get_multilabel_quality
    from truelabel.audit._multilabel import MULTILABEL_QUALITY_METHODS
    from truelabel.crossfit import cross_val_predict_multilabel
    from truelabel.featurize import featurize

    out: dict[str, Any] = {}
    for split in splits or (["dev"] if quick else ["dev", "test"]):
        texts, Y, names = goemotions(split)
        t0 = time.perf_counter()
        X = featurize(texts, featurizer)
        out[f"{split}_featurize"] = {
            "featurizer": featurizer,
            "n": len(texts),
            "seconds": round(time.perf_counter() - t0, 1),
            "load": round(os.getloadavg()[0], 1),
        }
        for rate in (0.1, 0.2):
            res: dict[str, Any] = {}
            for seed in (0,):
                Yn, truth = inject_multilabel_noise(Y, names, rate, seed)
                t0 = time.perf_counter()
                P = cross_val_predict_multilabel(X, Yn, random_state=seed)
                wall = time.perf_counter() - t0
                row: dict[str, Any] = {"crossfit_s": round(wall, 1), "load": os.getloadavg()[0]}
                for m in MULTILABEL_QUALITY_METHODS:
                    q = get_multilabel_quality(Yn, P, method=m)
                    row[f"truelabel_{m}"] = _ap_pk(q.astype(np.float64), truth)
                labels_list = [list(np.flatnonzero(r)) for r in Yn]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    cl = cl_scores(labels_list, P)
                row["cleanlab"] = _ap_pk(np.asarray(cl, dtype=np.float64), truth)
                flags = find_multilabel_issues(Yn, P).any(axis=1)
                row["flags"] = _flag_prf(flags, truth.astype(bool))
                res[f"seed{seed}"] = row
            out[f"{split}_{int(rate * 100)}pct"] = res
    return out


def _lda_c(path: Any, n_terms: int) -> Any:
    import scipy.sparse as sp

    rows, cols, vals = [], [], []
    with gzip.open(path, "rt") as f:
        for i, line in enumerate(f):
            for tok in line.split()[1:]:
                a, b = tok.split(":")
                rows.append(i)
                cols.append(int(a))
                vals.append(float(b))
    return sp.csr_matrix((vals, (rows, cols)), shape=(i + 1, n_terms))


def movie_reviews() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense features (TF-IDF of the bag of words, 256 SVD components — the words
    themselves are not published), the (N, 135) worker ratings (NaN = not rated) and the
    author's ratings of the 1,500 crowd-rated reviews."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    A = np.loadtxt(MOVIES / "answers.txt.gz")
    A[A > 1e8] = np.nan
    gold = np.loadtxt(MOVIES / "labels_train_amt.txt")
    C = _lda_c(MOVIES / "data_train_amt.txt.gz", 26_800)
    T = TfidfTransformer(sublinear_tf=True).fit_transform(C)
    Z = TruncatedSVD(256, random_state=0).fit_transform(T)
    return normalize(Z).astype(np.float32), A, gold


def audit_regression_movies(quick: bool) -> dict[str, Any]:
    """Given label = the author's rating with a share of items replaced by one random
    worker's rating (and: every item a worker's rating). Positives: given rating more than
    ``delta`` from the author's. AP of truelabel's label quality vs
    ``cleanlab.regression.rank.get_label_quality_scores`` on the same predictions."""
    from cleanlab.regression.rank import get_label_quality_scores as cl_reg

    from truelabel.audit import score_regression
    from truelabel.crossfit import cross_val_predict_regression, regression_folds

    X, A, gold = movie_reviews()
    n = len(gold)
    out: dict[str, Any] = {"n": n}
    for rate in (0.1, 0.2, 1.0):
        res: dict[str, Any] = {}
        for seed in range(1 if quick else 3):
            rng = np.random.default_rng(seed)
            worker = np.array([rng.choice(np.flatnonzero(~np.isnan(a))) for a in A])
            given = gold.copy()
            replace = rng.random(n) < rate
            given[replace] = A[np.arange(n), worker][replace]
            folds = regression_folds(n, 5, seed)
            pred, alpha = cross_val_predict_regression(X, given, folds=folds)
            sc = score_regression(X, given, pred, folds)
            homo = -np.abs(given - pred)  # higher = better, like a quality
            cl = cl_reg(given, pred)
            row: dict[str, Any] = {"alpha": alpha, "replaced": int(replace.sum())}
            for delta in (0.15, 0.25):
                truth = (np.abs(given - gold) > delta + 1e-9).astype(int)
                row[f"delta{delta}"] = {
                    "positives": int(truth.sum()),
                    "truelabel": _ap_pk(sc.label_quality.astype(np.float64), truth),
                    "truelabel_homoscedastic": _ap_pk(homo, truth),
                    "cleanlab": _ap_pk(np.asarray(cl, dtype=np.float64), truth),
                    "flags": _flag_prf(sc.is_label_issue, truth.astype(bool)),
                }
            res[f"seed{seed}"] = row
        out[f"{int(rate * 100)}pct"] = res
    return out


def aggregate_multilabel_crowdtruth() -> dict[str, Any]:
    """CrowdTruth medical relations: 975 sentences, 304 workers choosing any of 10 relations.
    F1 of the consensus ``causes`` / ``treats`` against the medical experts, for
    truelabel's ``ds`` (shared source skill, default), ``ds_per_class`` and per-option
    majority vote ``mv``, next to the CrowdTruth sentence-relation score at thresholds 0.3
    and 0.5."""
    import re

    from truelabel.aggregate import aggregate_multilabel

    ct = CROWDTRUTH / "cross_task"
    raw = pd.read_csv(ct / "medical_raw.csv.gz")
    raw["tags"] = [
        ",".join(dict.fromkeys(re.findall(r"\[([^\]]+)\]", str(j)))) for j in raw["judgement"]
    ]
    expert = pd.read_csv(ct / "medical_aggregated.csv")
    rel = {"cause": "causes", "treat": "treats"}

    def f1(pred: np.ndarray, y: np.ndarray) -> float:
        return round(float(2 * (pred & y).sum() / max(pred.sum() + y.sum(), 1)), 4)

    out: dict[str, Any] = {}
    for method in ("ds", "ds_per_class", "mv"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = aggregate_multilabel(
                raw, item_column="Sent_id", source_column="Work_id", label_column="tags",
                method=method,
            )  # fmt: skip
        lab = r.labels.set_index("item_id")
        for name, opt in rel.items():
            e = expert[expert["Annotation"] == name]
            ids = e["Unit_Id"].astype(str)
            p = lab.loc[ids, f"p_{opt}"].to_numpy() > 0.5
            out[f"{method}_{name}"] = f1(p, e["Expert"].to_numpy() == 1)
    for name in rel:
        e = expert[expert["Annotation"] == name]
        y = e["Expert"].to_numpy() == 1
        for th in (0.3, 0.5):
            out[f"crowdtruth{th}_{name}"] = f1(e["Media_Unit-Annotation_Score"].to_numpy() >= th, y)
        out[f"n_{name}"] = int(len(e))
    return out


# =========================================================================== ChaosNLI and
# CrowdTruth events (aggregation against many votes / experts)

CHAOSNLI = DATA / "label-errors" / "chaosnli"


def _dist_metrics(P: np.ndarray, H: np.ndarray) -> dict[str, float]:
    """Mean distances of predicted distributions P to the human ones H, both (N, K):
    KL(H || P) (P clipped at 1e-3 and renormalised, so a zero does not make it infinite),
    Jensen–Shannon divergence (base 2) and total variation."""
    Pc = np.clip(P, 1e-3, None)
    Pc = Pc / Pc.sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(H > 0, H * np.log(H / Pc), 0.0).sum(1)
        M = (P + H) / 2

        def _kl2(a: np.ndarray) -> np.ndarray:
            return np.where(a > 0, a * np.log2(a / M), 0.0).sum(1)

        js = 0.5 * _kl2(P) + 0.5 * _kl2(H)
    tv = 0.5 * np.abs(P - H).sum(1)
    return {
        "KL(human||p)": round(float(kl.mean()), 4),
        "JS": round(float(js.mean()), 4),
        "TV": round(float(tv.mean()), 4),
    }


def aggregate_chaosnli() -> dict[str, Any]:
    """ChaosNLI-SNLI (1,514 items): the 5 original SNLI labels per item (``old_labels``;
    the annotators' ids are not published, so a source is the annotator's *slot*: slot 0
    wrote the hypothesis, slots 1-4 validated it) aggregated by ``aggregate`` with its
    defaults and with majority vote; accuracy against the 100-vote majority and the
    distance of the soft label to the 100-vote distribution."""
    from truelabel.aggregate import aggregate

    d = pd.read_json(CHAOSNLI / "chaosNLI_snli.jsonl.gz", lines=True)
    classes = ["entailment", "neutral", "contradiction"]  # label_dist order e, n, c
    H = np.asarray(d["label_dist"].tolist(), dtype=np.float64)
    truth = d["majority_label"].map({"e": 0, "n": 1, "c": 2}).to_numpy()
    rows = [
        (u, f"slot{j}", lab)
        for u, labs in zip(d["uid"], d["old_labels"], strict=True)
        for j, lab in enumerate(labs)
    ]
    votes = pd.DataFrame(rows, columns=["item_id", "source", "label"])
    uids = d["uid"].astype(str).to_numpy()
    # the empirical distribution of the 5 labels, and add-one smoothed
    counts = np.zeros((len(d), 3))
    for i, labs in enumerate(d["old_labels"]):
        for lab in labs:
            counts[i, classes.index(lab)] += 1
    out: dict[str, Any] = {
        "n_items": len(d),
        "n_votes": len(votes),
        "original_label_equals_100_vote_majority": round(
            float((counts.argmax(1) == truth).mean()), 4
        ),
    }

    def score(P: np.ndarray) -> dict[str, Any]:
        return {
            "accuracy_vs_100_vote_majority": round(float((P.argmax(1) == truth).mean()), 4),
            **_dist_metrics(P, H),
        }

    out["vote shares (5 labels)"] = score(counts / counts.sum(1, keepdims=True))
    out["vote shares, add-one"] = score((counts + 1) / (counts + 1).sum(1, keepdims=True))
    for name, kw in (
        ("truelabel default (auto), slot = source", {"source_column": "source"}),
        ("truelabel mv, slot = source", {"source_column": "source", "method": "mv"}),
        ("truelabel ds, slot = source", {"source_column": "source", "method": "ds"}),
        ("truelabel mace, slot = source", {"source_column": "source", "method": "mace"}),
        ("truelabel glad, slot = source", {"source_column": "source", "method": "glad"}),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = aggregate(votes, item_column="item_id", label_column="label", **kw)
        cols = [list(map(str, r.classes)).index(c) for c in classes]
        pos = pd.Index(np.asarray(r.item_ids).astype(str)).get_indexer(uids)
        P = np.asarray(r.posterior, dtype=np.float64)[pos][:, cols]
        out[name] = {**score(P), "method": r.summary.get("method")}
    from crowdkit.aggregation import GLAD, MACE, DawidSkene

    ck_votes = votes.rename(columns={"item_id": "task", "source": "worker"})
    for name, model in (
        ("crowd-kit DawidSkene", DawidSkene(n_iter=100)),
        ("crowd-kit GLAD", GLAD()),
        ("crowd-kit MACE (10 restarts)", MACE(n_restarts=10, random_state=0)),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(ck_votes)
        proba = model.probas_.reindex(index=uids, columns=classes).fillna(0.0).to_numpy()
        out[name] = score(proba / proba.sum(1, keepdims=True))
    return out


def aggregate_multilabel_events() -> dict[str, Any]:
    """CrowdTruth news events: 200 sentences, 189 workers (15 per sentence) each selecting
    any words of the sentence as event mentions; 690 candidate (sentence, word) pairs judged
    by experts (``Expert``) and the paper's trusted judgment (``Ground_Truth``). A
    selection becomes a multi-select vote over the sentence's candidate words (option
    ``w<k>`` = its k-th distinct candidate; selected non-candidate words are not scored, and
    ``[NONE]`` is an empty selection). F1 of the consensus for truelabel ``ds`` (default),
    ``ds_per_class``, per-option majority ``mv`` (all workers, and without CrowdTruth's
    spam-flagged ones), and the CrowdTruth media-unit annotation score at a grid of
    thresholds (the best one picked on the truth: flatters the baseline)."""
    from truelabel.aggregate import aggregate_multilabel

    ct = CROWDTRUTH / "cross_task"
    raw = pd.read_csv(ct / "events_raw.csv.gz")
    agg = pd.read_csv(ct / "events_aggregated.csv")
    cand = agg.drop_duplicates(["Unit Id", "Annotated Span"])
    slot = {
        (u, w): f"w{k}"
        for u, g in cand.groupby("Unit Id", sort=False)
        for k, w in enumerate(g["Annotated Span"])
    }
    tags = []
    for u, ann in zip(raw["Unit_ID"], raw["Annotations"].astype(str), strict=True):
        words = {w.strip() for w in ann.split(",")}
        tags.append(",".join(slot[(u, w)] for w in sorted(words) if (u, w) in slot))
    votes = pd.DataFrame({"item_id": raw["Unit_ID"], "source": raw["Worker_ID"], "tags": tags})
    keys = [slot[(u, w)] for u, w in zip(agg["Unit Id"], agg["Annotated Span"], strict=True)]
    units = agg["Unit Id"].astype(str).to_numpy()
    truths = {
        "Expert": agg["Expert"].to_numpy() == 1,
        "Ground_Truth": agg["Ground_Truth"].to_numpy() == 1,
    }

    def prf(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
        tp = float((pred & y).sum())
        p, r = tp / max(float(pred.sum()), 1.0), tp / max(float(y.sum()), 1.0)
        return {
            "P": round(p, 4),
            "R": round(r, 4),
            "F1": round(2 * p * r / max(p + r, 1e-12), 4),
        }

    out: dict[str, Any] = {
        "n_sentences": int(raw["Unit_ID"].nunique()),
        "n_workers": int(raw["Worker_ID"].nunique()),
        "n_judgments": len(raw),
        "n_pairs": len(agg),
        "positives": {k: int(v.sum()) for k, v in truths.items()},
        "spam_flagged_judgments": int(raw["Spam"].sum()),
    }
    runs = [(m, votes, m) for m in ("ds", "ds_per_class", "mv")]
    runs.append(("mv without spam-flagged", votes[raw["Spam"].to_numpy() == 0], "mv"))
    for name, v, method in runs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = aggregate_multilabel(v, label_column="tags", method=method)
        lab = r.labels.set_index("item_id")
        p = np.array(
            [
                float(lab.at[u, f"p_{k}"]) if f"p_{k}" in lab.columns and u in lab.index else 0.0
                for u, k in zip(units, keys, strict=True)
            ]
        )
        out[name] = {t: prf(p > 0.5, y) for t, y in truths.items()}
    score = agg["Media_Unit-Annotation_Score"].to_numpy()
    out["every candidate positive"] = {
        t: prf(np.ones(len(agg), dtype=bool), y) for t, y in truths.items()
    }
    for t, y in truths.items():
        grid = {th: prf(score >= th, y) for th in (0.1, 0.2, 0.3, 0.4, 0.5)}
        best = max(grid, key=lambda th: grid[th]["F1"])
        out.setdefault("crowdtruth score", {})[t] = {"best_threshold": best, **grid[best]}
        out.setdefault("crowdtruth score >= 0.5", {})[t] = grid[0.5]
    return out


def run_multi(
    parts: list[str],
    quick: bool,
    payload: dict[str, Any],
    splits: list[str] | None = None,
    featurizer: str = "minilm",
) -> None:
    """The multi-label / regression parts of this benchmark."""
    if "multilabel" in parts:
        payload["multilabel_audit_goemotions"] = r = audit_multilabel_goemotions(
            quick, splits, featurizer
        )
        print("\n== GoEmotions injected multi-label noise: AP of the changed items")
        for k, v in r.items():
            if k.endswith("_featurize"):
                print(f"  {k}: {v}")
                continue
            for s, row in v.items():
                print(
                    f"  {k} {s}: "
                    + ", ".join(
                        f"{m} {row[m]['AP']}"
                        for m in row
                        if isinstance(row[m], dict) and "AP" in row[m]
                    )
                    + f" · flags {row['flags']}"
                )
    if "multilabel_aggregate" in parts:
        payload["multilabel_aggregate_crowdtruth"] = r = aggregate_multilabel_crowdtruth()
        print("\n== CrowdTruth medical: F1 vs experts")
        for k, v in r.items():
            print(f"  {k}: {v}")
    if "events" in parts:
        payload["multilabel_aggregate_events"] = r = aggregate_multilabel_events()
        print("\n== CrowdTruth events: P/R/F1 vs experts / trusted judgments")
        for k, v in r.items():
            print(f"  {k}: {v}")
    if "chaosnli" in parts:
        payload["aggregate_chaosnli"] = r = aggregate_chaosnli()
        print("\n== ChaosNLI-SNLI: 5 original labels vs the 100-vote majority / distribution")
        for k, v in r.items():
            print(f"  {k}: {v}")
    if "regression" in parts:
        payload["regression_audit_moviereviews"] = r = audit_regression_movies(quick)
        print("\n== MovieReviews worker ratings as labels: AP of |given - author| > delta")
        for k, v in r.items():
            if not isinstance(v, dict):
                continue
            for s, row in v.items():
                for d in ("delta0.15", "delta0.25"):
                    e = row[d]
                    print(
                        f"  {k} {s} {d} ({e['positives']} pos): truelabel {e['truelabel']['AP']}, "
                        f"homoscedastic {e['truelabel_homoscedastic']['AP']}, "
                        f"cleanlab {e['cleanlab']['AP']} · flags {e['flags']}"
                    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="audit,aggregate,train")
    ap.add_argument("--folds", default="dev,train", help="CoNLL folds to audit")
    ap.add_argument("--quick", action="store_true", help="dev only, acl17 votes only, one train")
    ap.add_argument("--goemotions-splits", default="", help="e.g. train (default dev,test)")
    ap.add_argument("--featurizer", default="minilm", help="GoEmotions features (multilabel)")
    ap.add_argument("--seeds", type=int, default=1, help="training seeds (--parts train)")
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
        name = "tasks_token_train" + ("_quick" if args.quick else "")
        payload["token_training"] = tr = train_conll(args.quick, args.seeds, name)
        print("\n== CRF tagger, entity F1")
        for k, v in tr.items():
            print(f"  {k}: {v}")
    run_multi(
        parts,
        args.quick,
        payload,
        args.goemotions_splits.split(",") if args.goemotions_splits else None,
        args.featurizer,
    )
    name = "tasks_token" + ("_quick" if args.quick else "")
    if args.parts != "audit,aggregate,train":
        name += "_" + "_".join(parts)
    if args.goemotions_splits:
        name += "_" + args.goemotions_splits.replace(",", "_") + "_" + args.featurizer
    print("results:", write_results(name, payload))


if __name__ == "__main__":
    main()

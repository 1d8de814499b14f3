"""Labeling functions (WRENCH youtube, sms, trec, chemprot): truelabel vs Snorkel's LabelModel.

For each dataset the label model is fitted on the train split's weak labels and
applied to the test split's weak labels (label-model test accuracy). Then the
end model — a logistic regression on the same MiniLM embeddings for every
method — is trained on the train posterior (soft labels as sample weights,
items no LF covers dropped, as in WRENCH) and evaluated on the gold test labels.
chemprot ships only valid/test, so its valid split plays train. Gold labels of
train are never used.

Model selection follows the WRENCH protocol: the labelled valid split is used
for choosing, never for training. truelabel's ``auto`` runs
``select_label_model`` on the train+valid votes with the valid gold as ``gold``
and ``n_folds=1`` (so it chooses by agreement with the valid gold, every candidate
fitted without gold), then the chosen method is fitted on the train votes
without gold, exactly like every other row. An extra row fits the chosen method
on train+valid votes with the valid gold clamped (gold anchoring). Snorkel's LabelModel gets the
class balance of Y_valid and its lr / l2 chosen by accuracy on valid.

    .venv/bin/python benchmarks/bench_aggregate_wrench.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "weak-supervision" / "wrench"
RESULTS = ROOT / "benchmarks" / "results" / "aggregate_wrench.json"
DATASETS = ["youtube", "sms", "trec", "chemprot"]
METHODS = ("mv", "wawa", "ds", "ds_pooled", "onecoin", "mace", "mc", "auto", "features")
#: vote-only candidates of both valid-selected auto protocols (mc added 2026-11-23, round 3)
VOTE_ONLY = ("mv", "wawa", "onecoin", "ds", "ds_pooled", "mace", "mc")
#: the matrix-completion model's grid for valid selection (Snorkel gets lr x l2 below;
#: truelabel's l2 weights ||mu - mu0||^2, so 0.01 = Snorkel's l2=0.1), plus init_accuracy
#: (0.35 ~ Snorkel's effective start: its mu starts at prec_init 0.7 x a random 0.55)
MC_GRID = tuple(
    {"lr": lr, "l2": l2, "init_accuracy": ia}
    for lr in (0.01, 0.001)
    for l2 in (0.0, 0.01)
    for ia in (0.7, 0.35)
)


def _text(split: Any, name: str) -> list[str]:
    df = split.data
    if name == "chemprot":
        return (
            df["entity1"].astype(str)
            + " [SEP] "
            + df["entity2"].astype(str)
            + " [SEP] "
            + df["text"].astype(str)
        ).tolist()
    return df["text"].fillna("").astype(str).tolist()


def _end_model(X: np.ndarray, post: np.ndarray, covered: np.ndarray, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    t = post[covered]
    rows, cls = np.nonzero(t >= 0.01)
    if len(np.unique(cls)) < 2:  # a collapsed posterior: predict its one class
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(strategy="most_frequent").fit(X[covered][rows], cls)
    model = LogisticRegression(C=1.0, max_iter=500, random_state=seed)
    model.fit(X[covered][rows], cls, sample_weight=t[rows, cls])
    return model


def _end_acc(model: Any, X: np.ndarray, y: np.ndarray, k: int) -> float:
    p = np.zeros((len(y), k))
    p[:, model.classes_] = model.predict_proba(X)
    return float((p.argmax(axis=1) == y).mean())


def run(name: str, quick: bool) -> dict[str, Any]:
    from truelabel.aggregate import aggregate_votes
    from truelabel.featurize import featurize
    from truelabel.sources._wrench import read_wrench

    train_file = "valid.json" if name == "chemprot" else "train.json"
    tr = read_wrench(DATA / name / train_file)
    va = read_wrench(DATA / name / "valid.json")
    te = read_wrench(DATA / name / "test.json")
    k = len(tr.classes)
    t0 = time.perf_counter()
    Xtr = featurize(_text(tr, name), method="minilm")
    Xte = featurize(_text(te, name), method="minilm")
    feat_secs = time.perf_counter() - t0
    vtr, vte = tr.votes(), te.votes()
    covered = vtr.votes_per_item() > 0
    out: dict[str, Any] = {
        "dataset": name,
        "train_split": train_file,
        "n_train": vtr.n_items,
        "n_test": vte.n_items,
        "n_lfs": vtr.n_sources,
        "n_classes": k,
        "train_coverage": float(covered.mean()),
        "featurize_seconds": feat_secs,
        "methods": {},
    }
    ytest = te.gold
    # selection data: train + valid votes (the same item once if valid plays train), valid gold
    from truelabel.aggregate._auto import select_label_model
    from truelabel.sources._votes import votes_from_matrix, with_abstain_votes

    if train_file == "valid.json":
        sel_wl, sel_gold = va.weak_labels, va.gold
    else:
        sel_wl = np.vstack([tr.weak_labels, va.weak_labels])
        sel_gold = np.concatenate([np.full(len(tr.gold), -1), va.gold])
    vsel = votes_from_matrix(
        sel_wl,
        classes=tr.classes,
        item_ids=[f"i{j}" for j in range(len(sel_wl))],
        source_names=[f"lf_{j}" for j in range(sel_wl.shape[1])],
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # auto's gold-agreement criterion with ONE fold: every valid gold label hidden, so
        # each candidate is fitted without gold exactly as the final train fit is (with
        # more folds the candidates would be scored with 2/3 of the gold clamped, which
        # favours the EM models over the gold-blind vote counts). Abstaining is modelled
        # as aggregate_votes does for LF votes.
        fit_sel = with_abstain_votes(vsel) if vsel.info.get("abstain_informative") else vsel
        choice = select_label_model(
            fit_sel,
            gold=sel_gold.astype(np.int64),
            n_folds=1,
            random_state=0,
            # the vote-only candidates of the original protocol (best_source, added later
            # for gold-anchored choice, would be fitted without gold here)
            candidates=VOTE_ONLY,
        )
    sel_secs = time.perf_counter() - t0
    choice_method, choice_reason = choice.method, choice.reason
    print(f"  {name:9s} auto (valid gold) chose {choice_method}: {choice_reason}", flush=True)
    for method in METHODS:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # auto chooses among the vote-only models here (the features candidate costs 30+
            # cross-fitted fits on a busy 2-core machine); the features model is its own row
            fit_method = choice_method if method == "auto" else method
            res = aggregate_votes(
                vtr,
                method=fit_method,
                features=Xtr if fit_method == "features" else None,
                random_state=0,
            )
            chosen = fit_method if method == "auto" else res.summary["method"]
            # the fitted model scores the test votes with the train source estimates
            # (the features model falls back to its global prior there: no test features used)
            p_test = res.model.predict_proba(vte)
        lm_secs = time.perf_counter() - t0 + (sel_secs if method == "auto" else 0.0)
        lm_acc = float((p_test.argmax(axis=1) == ytest).mean())
        end = _end_model(Xtr, res.posterior, covered, 0)
        e_acc = _end_acc(end, Xte, ytest, k)
        out["methods"][f"truelabel.{method}"] = {
            "label_model_test_accuracy": lm_acc,
            "end_model_test_accuracy": e_acc,
            "train_posterior_accuracy": float(
                (res.posterior.argmax(1) == tr.gold)[tr.gold >= 0].mean()
            ),
            "seconds": lm_secs,
            **(
                {
                    "auto_choice": chosen,
                    "auto_reason": choice_reason,
                }
                if method == "auto"
                else {}
            ),
        }
        print(
            f"  {name:9s} truelabel.{method:10s} LM={lm_acc:.4f} end={e_acc:.4f} ({lm_secs:.2f}s)",
            flush=True,
        )

    # Same-information protocol (added 2026-11-23, reported next to the one above): Snorkel
    # gets class_balance from Y_valid, so truelabel's models get the same class shares as a
    # fixed class_prior. Candidates = vote-only methods x {estimated prior, valid class
    # prior}, each fitted on the train votes without gold exactly as the final model is,
    # scored by accuracy on the valid split; ties go to the earlier (simpler, estimated-prior)
    # candidate. Test is never looked at by the selection.
    balance_valid = np.bincount(va.gold, minlength=k).astype(np.float64)
    balance_valid /= balance_valid.sum()
    vva = va.votes()
    sel_rows: list[tuple[str, str, float]] = []
    fitted: dict[tuple[str, str], Any] = {}
    t0 = time.perf_counter()
    for prior_name, prior in (("estimated", None), ("valid", balance_valid)):
        for method in VOTE_ONLY:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = aggregate_votes(vtr, method=method, random_state=0, class_prior=prior)
            v_acc = float((res.model.predict_proba(vva).argmax(axis=1) == va.gold).mean())
            sel_rows.append((method, prior_name, v_acc))
            fitted[(method, prior_name)] = res
    # the matrix-completion model's hyperparameter grid (after the defaults: ties keep them)
    for prior_name, prior in (("estimated", None), ("valid", balance_valid)):
        for g in MC_GRID:
            tag = "mc[lr={lr:g},l2={l2:g},init={init_accuracy:g}]".format(**g)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = aggregate_votes(vtr, method="mc", random_state=0, class_prior=prior, params=g)
            v_acc = float((res.model.predict_proba(vva).argmax(axis=1) == va.gold).mean())
            sel_rows.append((tag, prior_name, v_acc))
            fitted[(tag, prior_name)] = res
    sel_secs2 = time.perf_counter() - t0
    best_m, best_p, best_v = max(sel_rows, key=lambda r: r[2])  # first maximum wins ties
    # mc tuned exactly as Snorkel is here: valid class prior, grid chosen by valid accuracy
    mc_rows = [r for r in sel_rows if r[0].startswith("mc[") and r[1] == "valid"]
    mc_best = max(mc_rows, key=lambda r: r[2])
    for (method, prior_name), res in fitted.items():
        is_mc_tuned = (method, prior_name) == mc_best[:2]
        if (
            method.startswith("mc[")
            and not is_mc_tuned
            and (method, prior_name) != (best_m, best_p)
        ):
            continue
        if prior_name != "valid" and (method, prior_name) != (best_m, best_p):
            continue
        p_test = res.model.predict_proba(vte)
        lm_acc = float((p_test.argmax(axis=1) == ytest).mean())
        end = _end_model(Xtr, res.posterior, covered, 0)
        e_acc = _end_acc(end, Xte, ytest, k)
        rows_out = []
        if is_mc_tuned:
            rows_out.append("truelabel.mc_tuned_valid_prior")
        if prior_name == "valid" and not method.startswith("mc["):
            rows_out.append(f"truelabel.{method}_valid_prior")
        if (method, prior_name) == (best_m, best_p):
            rows_out.append("truelabel.auto_valid_prior")
        for key in rows_out:
            out["methods"][key] = {
                "label_model_test_accuracy": lm_acc,
                "end_model_test_accuracy": e_acc,
                "train_posterior_accuracy": float(
                    (res.posterior.argmax(1) == tr.gold)[tr.gold >= 0].mean()
                ),
                "seconds": sel_secs2 if key == "truelabel.auto_valid_prior" else None,
                **(
                    {
                        "auto_choice": f"{best_m} ({best_p} prior)",
                        "valid_scores": {f"{m} ({pn} prior)": a for m, pn, a in sel_rows},
                    }
                    if key == "truelabel.auto_valid_prior"
                    else {}
                ),
                **(
                    {"chosen_on_valid": {"config": method, "valid_accuracy": mc_best[2]}}
                    if key == "truelabel.mc_tuned_valid_prior"
                    else {}
                ),
            }
            print(f"  {name:9s} {key:30s} LM={lm_acc:.4f} end={e_acc:.4f}", flush=True)

    if train_file != "valid.json":
        # extra row (not the protocol above): the chosen method fitted on train+valid votes
        # with the valid gold clamped (gold anchoring), scored on test like the others
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = aggregate_votes(
                vsel, method=choice_method, gold=sel_gold.astype(np.int64), random_state=0
            )
            p_test = res.model.predict_proba(vte)
        lm_secs = time.perf_counter() - t0
        lm_acc = float((p_test.argmax(axis=1) == ytest).mean())
        post_tr = res.posterior[: len(tr.gold)]
        end = _end_model(Xtr, post_tr, covered, 0)
        e_acc = _end_acc(end, Xte, ytest, k)
        out["methods"]["truelabel.auto_gold_anchored"] = {
            "label_model_test_accuracy": lm_acc,
            "end_model_test_accuracy": e_acc,
            "train_posterior_accuracy": float((post_tr.argmax(1) == tr.gold)[tr.gold >= 0].mean()),
            "seconds": lm_secs,
            "auto_choice": choice_method,
        }
        print(
            f"  {name:9s} truelabel.auto+gold  LM={lm_acc:.4f} end={e_acc:.4f} ({lm_secs:.2f}s)",
            flush=True,
        )

    from snorkel.labeling.model import LabelModel

    t0 = time.perf_counter()
    balance = np.bincount(va.gold, minlength=k).astype(np.float64)
    balance = np.clip(balance / balance.sum(), 1e-3, None)
    balance /= balance.sum()
    best: tuple[float, Any, dict[str, float]] | None = None
    for lr in (0.01, 0.001):
        for l2 in (0.0, 0.1):
            cand = LabelModel(cardinality=k, verbose=False)
            cand.fit(
                tr.weak_labels,
                class_balance=balance,
                n_epochs=50 if quick else 100,
                lr=lr,
                l2=l2,
                log_freq=1000,
                seed=0,
                progress_bar=False,
            )
            v_acc = float((cand.predict_proba(va.weak_labels).argmax(1) == va.gold).mean())
            if best is None or v_acc > best[0]:
                best = (v_acc, cand, {"lr": lr, "l2": l2})
    assert best is not None
    lm = best[1]
    p_tr = lm.predict_proba(tr.weak_labels)
    p_te = lm.predict_proba(te.weak_labels)
    secs = time.perf_counter() - t0
    lm_acc = float((p_te.argmax(axis=1) == ytest).mean())
    end = _end_model(Xtr, p_tr, covered, 0)
    e_acc = _end_acc(end, Xte, ytest, k)
    out["methods"]["snorkel.LabelModel"] = {
        "label_model_test_accuracy": lm_acc,
        "end_model_test_accuracy": e_acc,
        "train_posterior_accuracy": float((p_tr.argmax(1) == tr.gold)[tr.gold >= 0].mean()),
        "seconds": secs,
        "chosen_on_valid": {**best[2], "valid_accuracy": best[0]},
    }
    print(
        f"  {name:9s} snorkel.LabelModel   LM={lm_acc:.4f} end={e_acc:.4f} ({secs:.2f}s)",
        flush=True,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--quick", action="store_true", help="50 Snorkel epochs instead of its default 100."
    )
    args = ap.parse_args()
    import snorkel

    import truelabel

    rows = []
    for name in DATASETS:
        print(f"== {name}", flush=True)
        rows.append(run(name, args.quick))
        _write(rows, args, snorkel, truelabel)


def _write(
    rows: list[dict[str, Any]], args: argparse.Namespace, snorkel: Any, truelabel: Any
) -> None:
    summary = []
    for r in rows:
        ms = r["methods"]
        sn = ms["snorkel.LabelModel"]
        au = ms["truelabel.auto"]
        av = ms["truelabel.auto_valid_prior"]
        summary.append(
            {
                "dataset": r["dataset"],
                "auto_valid_prior_label_model": av["label_model_test_accuracy"],
                "auto_valid_prior_end_model": av["end_model_test_accuracy"],
                "auto_valid_prior_choice": av["auto_choice"],
                "auto_label_model": au["label_model_test_accuracy"],
                "snorkel_label_model": sn["label_model_test_accuracy"],
                "auto_end_model": au["end_model_test_accuracy"],
                "features_end_model": ms["truelabel.features"]["end_model_test_accuracy"],
                "mc_label_model": ms["truelabel.mc"]["label_model_test_accuracy"],
                "mc_tuned_valid_prior_label_model": ms["truelabel.mc_tuned_valid_prior"][
                    "label_model_test_accuracy"
                ],
                "snorkel_end_model": sn["end_model_test_accuracy"],
                "auto_choice": au.get("auto_choice"),
            }
        )
    for s in summary:
        print(s)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "aggregate_wrench",
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "command": "python benchmarks/bench_aggregate_wrench.py"
                + (" --quick" if args.quick else ""),
                "machine": f"{platform.machine()}, 2 CPU cores shared by ~8 concurrent agents",
                "versions": {
                    "truelabel": truelabel.__version__,
                    "snorkel": getattr(snorkel, "__version__", "0.10.0"),
                    "python": sys.version.split()[0],
                },
                "notes": "Label model fitted on train weak labels, applied to test weak labels. End "
                "model: sklearn LogisticRegression(C=1) on MiniLM-L6 embeddings, soft labels as "
                "sample weights, uncovered train items dropped; same for every method. WRENCH protocol: "
                "the labelled valid split is used for model selection only. auto = "
                "select_label_model (auto's gold-agreement criterion, n_folds=1: every "
                "candidate fitted on train+valid votes without gold, scored on the valid gold; "
                "vote-only candidates; features is its own row), then the chosen "
                "method fitted on train votes without gold. chemprot: valid split used as train "
                "(and for selection). Snorkel LabelModel: class_balance from Y_valid, lr in "
                "{0.01, 0.001} x l2 in {0, 0.1} chosen by valid accuracy, 100 epochs, seed 0. "
                "auto_valid_prior (same-information protocol, added later and reported next to "
                "auto): candidates = vote-only methods x {estimated prior, valid class shares as "
                "a fixed class_prior}, each fitted on the train votes without gold like the final "
                "model, scored by accuracy on valid; <method>_valid_prior rows = each method with "
                "the valid class shares as class_prior. Round 3 (2026-11-23): mc = truelabel's own "
                "matrix-completion label model (MatrixCompletionLabelModel, defaults: 100 momentum "
                "gradient steps, lr 0.01, l2 0, init accuracy 0.7, prior = majority-vote class "
                "shares) added as a row and as a candidate of both auto protocols; in the "
                "same-information protocol its grid lr {0.01, 0.001} x l2 {0, 0.01} x init_accuracy "
                "{0.7, 0.35} x {estimated, valid prior} is also a candidate; mc_tuned_valid_prior = "
                "mc with the valid class prior and that grid chosen by valid accuracy (Snorkel's "
                "protocol, with init_accuracy as an extra knob). mc defaults and the grid were "
                "chosen by looking at valid accuracy only.",
                "datasets": rows,
                "summary": summary,
            },
            indent=2,
        )
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

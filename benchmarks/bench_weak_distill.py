"""Distillation benchmark (issue 18, part 5).

llm-labels/llms_for_css tasks whose gold labels map onto the prompt's options (emotion,
discourse, semeval_stance, raop). The teacher is the strongest LLM of the task (the
answer file with the best accuracy on the task, RoBERTa — a fine-tuned model, not an
LLM — excluded), or the average of the three strongest (an ensemble, soft targets).
Per task: 30% of the items are the test set (gold); of the other 70% (the pool) 30
random items carry gold labels (the "gold subset"); the teacher is asked about
``budget`` pool items chosen by DistilledClassifier with each selection strategy
(random, diversity, uncertainty, hybrid). Test accuracy of the student (RobustLogisticRegression on static
embeddings) against the teacher's own test accuracy and the student trained on the
gold subset alone.

    .venv/bin/python benchmarks/bench_weak_distill.py       # -> results/weak_distill.json
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, machine, write_results  # noqa: E402
from truelabel.featurize import featurize  # noqa: E402
from truelabel.learn import DistilledClassifier, RobustLogisticRegression  # noqa: E402

TASKS = ("emotion", "discourse", "semeval_stance", "raop")
BUDGETS = (50, 100, 200)
SELECTS = ("random", "diversity", "uncertainty", "hybrid")
N_GOLD = 30
FEATURIZER = os.environ.get("DISTILL_FEATURIZER", "static")


def load_task(task: str) -> tuple[list[str], np.ndarray, list[str], dict[str, np.ndarray]]:
    """texts, gold codes, option letters, {model: answer codes (-1 = unparsable)}"""
    d = DATA / "llm-labels" / "llms_for_css" / task
    js = json.loads((d / "test.json").read_text())
    keys = list(js["context"])
    prompt = js["prompts"][keys[0]]
    options = dict(re.findall(r"^([A-Z]): (.+)$", prompt, flags=re.M))
    letters = sorted(options)
    by_name = {v.strip().lower(): k for k, v in options.items()}

    def code(v: str) -> int:
        v = str(v).strip()
        if v in options:
            return letters.index(v)
        return letters.index(by_name[v.lower()]) if v.lower() in by_name else -1

    gold = np.array([code(js["labels"][k]) for k in keys])
    answers = {}
    for f in sorted(d.glob("answer-*")):
        df = pd.read_csv(
            f, sep="\t", header=None, names=["row", "gold", "pred"], dtype=str, quoting=3
        )
        pred = df["pred"].fillna("").str.lstrip("&").str.strip().str[:1]
        a = np.full(len(keys), -1)
        a[df["row"].astype(int).to_numpy()] = [
            letters.index(p) if p in letters else -1 for p in pred
        ]
        answers[f.name.removeprefix("answer-")] = a
    return [str(js["context"][k]) for k in keys], gold, letters, answers


def main() -> None:
    rows = []
    for task in TASKS:
        texts, gold, letters, answers = load_task(task)
        K = len(letters)
        keep = gold >= 0
        X = np.asarray(featurize(texts, FEATURIZER), dtype=np.float32)
        rng = np.random.default_rng(0)
        idx = np.flatnonzero(keep)
        test = np.zeros(len(gold), dtype=bool)
        test[rng.choice(idx, int(0.3 * len(idx)), replace=False)] = True
        pool = keep & ~test
        acc = {
            m: float((a[keep] == gold[keep]).mean()) for m, a in answers.items() if m != "roberta"
        }
        ranked = sorted(acc, key=acc.get, reverse=True)
        onehot = {
            m: np.where((answers[m] >= 0)[:, None], np.eye(K)[np.maximum(answers[m], 0)], np.nan)
            for m in ranked[:3]
        }
        ens = np.nanmean(np.stack([onehot[m] for m in ranked[:3]]), axis=0)
        teachers = {f"best ({ranked[0]})": onehot[ranked[0]], "ensemble of 3": ens}
        y = np.full(len(gold), -1)
        gsub = rng.choice(np.flatnonzero(pool), N_GOLD, replace=False)
        y[gsub] = gold[gsub]
        g_only = RobustLogisticRegression().fit(X[gsub], gold[gsub])
        acc_gold_only = float(
            (
                np.asarray(g_only.classes_)[g_only.predict_proba(X[test]).argmax(1)] == gold[test]
            ).mean()
        )
        full = RobustLogisticRegression().fit(X[pool], gold[pool])
        acc_all_gold = float((full.predict(X[test]) == gold[test]).mean())
        for tname, T in teachers.items():
            tp = np.where(pool[:, None], T, np.nan)  # the teacher is asked about pool items only
            t_acc = float((np.nan_to_num(T[test], nan=0).argmax(1) == gold[test]).mean())
            for budget in (*BUDGETS, None):
                for select in SELECTS if budget else ("all",):
                    t0 = time.time()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        dc = DistilledClassifier(
                            budget=budget, select=select if budget else "hybrid", random_state=0
                        ).fit(X, y, teacher_probs=tp, n_classes=K)
                    s_acc = float((dc.predict(X[test]) == gold[test]).mean())
                    row = {
                        "task": task,
                        "teacher": tname,
                        "budget": budget if budget else int(pool.sum()),
                        "select": select,
                        "student": round(s_acc, 4),
                        "teacher_acc": round(t_acc, 4),
                        "gold_subset_only": round(acc_gold_only, 4),
                        "all_pool_gold": round(acc_all_gold, 4),
                        "asked": int(dc.asked_.sum()),
                        "seconds": round(time.time() - t0, 1),
                    }
                    rows.append(row)
                    print(
                        f"{task:14s} {tname:26s} budget {row['budget']:4d} {select:11s}: student "
                        f"{s_acc:.3f} teacher {t_acc:.3f} gold-{N_GOLD}-only {acc_gold_only:.3f} "
                        f"all-gold {acc_all_gold:.3f}",
                        flush=True,
                    )
    summary = {}
    for sel in SELECTS:
        rs = [r for r in rows if r["select"] == sel]
        summary[sel] = {
            "mean_student": round(float(np.mean([r["student"] for r in rs])), 4),
            "mean_gain_over_gold_subset": round(
                float(np.mean([r["student"] - r["gold_subset_only"] for r in rs])), 4
            ),
        }
    print("mean over tasks, teachers and budgets:", summary)
    write_results(
        "weak_distill",
        {
            "machine": machine(),
            "loadavg": os.getloadavg(),
            "featurizer": FEATURIZER,
            "summary_by_select": summary,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()

"""Make the example tables of docs/weak-supervision.md from ../shared/datasets.

    python docs/examples/weak_supervision_data.py OUT_DIR

Writes (all simulated from real data with clean labels, seed 0):
  mushroom_pu.csv / mushroom_test.csv   30% of the poisonous training rows labeled "1",
                                        every other label empty (PU)
  birdsong.csv / birdsong_truth.csv     BirdSong features + candidate species "s3|s7"
  adult_bags.csv / adult_props.csv      Adult rows in random bags of 64 + class shares
  ag_news_1pct.csv                      AG News with 1% of the labels kept
  stance.csv / stance_teacher.csv       SemEval stance texts, 30 gold labels, ChatGPT's
                                        answers as the teacher
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io as sio

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    # PU: Mushroom
    m = pd.read_csv(DATA / "pu-llp/uci/agaricus-lepiota.data.gz", header=None)
    m.columns = ["edibility"] + [f"a{i}" for i in range(1, m.shape[1])]
    test = rng.random(len(m)) < 0.25
    tr = m.loc[~test].copy()
    tr.insert(
        0, "poisonous", np.where((tr["edibility"] == "p") & (rng.random(len(tr)) < 0.3), "1", "")
    )
    tr.drop(columns=["edibility"]).to_csv(out / "mushroom_pu.csv", index=False)
    m.loc[test].to_csv(out / "mushroom_test.csv", index=False)  # keeps the truth column
    # partial labels: BirdSong
    d = sio.loadmat(DATA / "partial-label/realworld/BirdSong.mat")
    C = np.asarray(d["partial_target"].toarray()).T > 0
    y = np.asarray(d["target"].toarray()).T.argmax(axis=1)
    b = pd.DataFrame(np.asarray(d["data"]), columns=[f"f{j}" for j in range(d["data"].shape[1])])
    names = np.array([f"s{k}" for k in range(C.shape[1])])
    b.insert(0, "cands", ["|".join(names[row]) for row in C])
    b.to_csv(out / "birdsong.csv", index=False)
    pd.DataFrame({"true_species": names[y]}).to_csv(out / "birdsong_truth.csv", index=False)
    # label proportions: Adult in bags of 64
    cols = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
            "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
            "hours_per_week", "native_country", "income"]  # fmt: skip
    a = pd.read_csv(DATA / "pu-llp/uci/adult.data.gz", header=None, skipinitialspace=True,
                    na_values="?", names=cols)  # fmt: skip
    a["bag"] = rng.permutation(len(a)) // 64
    shares = pd.crosstab(a["bag"], a["income"], normalize="index").reset_index()
    shares.to_csv(out / "adult_props.csv", index=False)
    a.drop(columns=["income"]).to_csv(out / "adult_bags.csv", index=False)
    # semi-supervised: AG News, 1% labeled
    g = pd.read_csv(DATA / "text/ag_news/test.csv")
    text = g["title"].astype(str) + ". " + g["description"].astype(str)
    names4 = np.array(["World", "Sports", "Business", "Sci/Tech"])
    keep = rng.random(len(g)) < 0.01
    pd.DataFrame({"text": text, "topic": np.where(keep, names4[g["label"] - 1], ""),
                  "true_topic": names4[g["label"] - 1]}).to_csv(out / "ag_news_1pct.csv", index=False)  # fmt: skip
    # distillation: SemEval stance, ChatGPT as the teacher
    t = DATA / "llm-labels/llms_for_css/semeval_stance"
    js = json.loads((t / "test.json").read_text())
    keys = list(js["context"])
    # the option "None" (no stance) is renamed: pandas reads a "None" cell as missing
    rename = {"None": "No stance"}
    opts = dict(re.findall(r"^([A-Z]): (.+)$", js["prompts"][keys[0]], flags=re.M))
    opts = {k: rename.get(v, v) for k, v in opts.items()}
    gold = [rename.get(js["labels"][k], js["labels"][k]) for k in keys]
    ans = pd.read_csv(t / "answer-chatgpt", sep="\t", header=None, names=["row", "g", "p"], dtype=str, quoting=3)  # fmt: skip
    teacher = pd.DataFrame({"item_id": ans["row"].astype(int),
                            "label": ans["p"].str.strip().str[:1].map(opts)})  # fmt: skip
    s = pd.DataFrame({"item_id": range(len(keys)), "text": [js["context"][k] for k in keys]})
    s["gold"] = ""
    pick = rng.choice(len(keys), 30, replace=False)
    s.loc[pick, "gold"] = np.asarray(gold)[pick]
    s["true_stance"] = gold
    s.to_csv(out / "stance.csv", index=False)
    teacher.dropna().to_csv(out / "stance_teacher.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]))

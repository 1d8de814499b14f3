"""A notebook session with truelabel, as a script (each ``# %%`` is a cell).

Run it from the repository root (the tests execute it: tests/test_docs_examples.py)::

    python docs/examples/notebook_tour.py [OUT_FOLDER]

It audits 3,000 Banking77 texts, aggregates the RTE crowd votes of Snow et al. (2008), and
writes both reports. In Jupyter, the last line of a cell showing ``result`` renders its
``_repr_html_`` (a compact summary and the top rows) instead of a DataFrame dump.
"""

# %%
import sys
from pathlib import Path

import pandas as pd

import truelabel

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
out = Path(sys.argv[1] if len(sys.argv) > 1 else "notebook_tour")

# %% Audit: which labels are probably wrong?
df = pd.read_csv(DATA / "text" / "banking77" / "train.csv").sample(3000, random_state=0)
result = truelabel.audit(df, text="text", label="category", featurizer="tfidf", random_state=0)
print(repr(result))  # one line per fact; in a notebook, `result` alone renders the HTML summary
summary_html = result._repr_html_()  # what Jupyter shows
result.report(out / "audit")  # writes audit/report.html (+ report.css, report.js)
# result.report(open_browser=True) opens it in a web browser instead

# %% Aggregate crowd votes: predict() gives class labels, like scikit-learn
votes = pd.read_csv(DATA / "crowd" / "snow2008" / "rte.standardized.tsv", sep="\t")
votes = votes.rename(
    columns={"orig_id": "item_id", "!amt_worker_ids": "source", "response": "label"}
)[["item_id", "source", "label"]]
agg = truelabel.aggregate(votes)
print(repr(agg))
model = agg.model
print(model.classes_, model.predict()[:10])  # values of classes_, not integer codes
agg.report(out / "aggregate")

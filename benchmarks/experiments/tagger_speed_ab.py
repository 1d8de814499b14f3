"""A/B of the CRF tagger's training speed between two source trees (same data, same seeds).

Trains ``CRFTagger`` (defaults: 3 epochs) on CoNLL-2003 dev with seeds 0 and 1 after one
warm-up fit (imports), and prints fit seconds, the load average, test entity F1 and the last
epoch's NLL per token; run once per tree and compare within the same minutes::

    for t in /work/main /work/wt/task-bench; do
        PYTHONPATH=$t/src .venv/bin/python benchmarks/experiments/tagger_speed_ab.py
    done

With ``--profile`` it prints the cProfile table (by own time) of one 2-epoch fit instead.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import truelabel  # noqa: E402
from _common import DATA  # noqa: E402
from truelabel.io._tokens import load_conll  # noqa: E402
from truelabel.learn import entity_f1  # noqa: E402
from truelabel.learn._tagger import CRFTagger  # noqa: E402


def main() -> None:
    d = DATA / "token" / "conll2003" / "original"
    ds = load_conll(d / "dev.txt.gz")
    te = load_conll(d / "test.txt.gz", tag_names=ds.tag_names)
    assert ds.tags is not None and te.tags is not None
    feats = CRFTagger().features(ds.tokens, ds.offsets)
    CRFTagger(epochs=1).fit(ds.tokens, ds.offsets, ds.tags, ds.tag_names, features=feats)
    if "--profile" in sys.argv:
        pr = cProfile.Profile()
        pr.enable()
        CRFTagger(epochs=2).fit(ds.tokens, ds.offsets, ds.tags, ds.tag_names, features=feats)
        pr.disable()
        s = io.StringIO()
        pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(14)
        print(s.getvalue())
        return
    print(truelabel.__file__)
    for seed in (0, 1):
        t = CRFTagger(random_state=seed)
        t0 = time.perf_counter()
        t.fit(ds.tokens, ds.offsets, ds.tags, ds.tag_names, features=feats)
        secs = time.perf_counter() - t0
        f1 = entity_f1(te.tags, t.predict(te.tokens, te.offsets), te.offsets)["f1"]
        print(
            f"seed {seed}: {secs:.1f} s (load {os.getloadavg()[0]:.1f}), test entity F1 {f1}, "
            f"last NLL/token {t.loss_curve_[-1]:.6f}"
        )


if __name__ == "__main__":
    main()

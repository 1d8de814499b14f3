"""Paths to ../shared/datasets for tests (a module with a unique name, importable from any
test folder: several folders have their own ``conftest.py``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRUELABEL_SHARED", ROOT.parent / "shared")) / "datasets"


def shared_path(*parts: str) -> Path:
    """Path under ../shared/datasets; skips the test with a reason when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not found (../shared/datasets is only present in the project's CI)")
    return p


def goemotions(split: str, n: int) -> Any:
    """The first ``n`` GoEmotions items of a split: ``text, labels, id`` as released
    (``labels`` = comma-joined tag codes) plus ``tags``, the list of tag names."""
    import pandas as pd

    names = shared_path("multilabel", "goemotions", "labels.txt").read_text().split()
    d = pd.read_csv(
        shared_path("multilabel", "goemotions", f"{split}.tsv.gz"),
        sep="\t",
        header=None,
        names=["text", "labels", "id"],
        quoting=3,
        nrows=n,
    )
    d["tags"] = [[names[int(x)] for x in s.split(",")] for s in d["labels"].astype(str)]
    return d


def pico_spans(split: str, n: int | None = None) -> tuple[Any, Any]:
    """PICO "Participants" crowd spans of a split (the first ``n`` abstracts): the span
    votes ``item_id, source, start, end, label`` (a worker who marked nothing: one row with
    empty offsets) and the texts ``item_id, text``."""
    import gzip
    import json

    import pandas as pd

    ann = shared_path(
        "crowd", "pico-spans", "annotations", split, "PICO-annos-crowdsourcing.json.gz"
    )
    crowd = [json.loads(x) for x in gzip.open(ann, "rt")][:n]
    ids = {d["docid"] for d in crowd}
    docs = [
        d
        for d in map(
            json.loads, gzip.open(shared_path("crowd", "pico-spans", "docs.jsonl.gz"), "rt")
        )
        if d["docid"] in ids
    ]
    rows = [
        (d["docid"], w, s, e, "Participants")
        for d in crowd
        for w, spans in d["Participants"].items()
        for s, e in (spans or [(None, None)])
    ]
    votes = pd.DataFrame(rows, columns=["item_id", "source", "start", "end", "label"])
    return votes, pd.DataFrame(docs).rename(columns={"docid": "item_id"})


def seed_models(dest: Path) -> None:
    """Copy hash-verified exported models (``*.onnx`` / ``*.npz`` with a ``.sha256`` sidecar)
    from the user's cache into ``dest``, so a test session does not re-export the ONNX
    model or re-distill the static table. On a fresh machine nothing is copied and the real
    export/distillation runs once per session."""
    import shutil

    from truelabel.featurize._onnx import _is_valid

    src = Path.home() / ".cache" / "truelabel" / "models"
    if not src.is_dir():
        return
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.iterdir()):
        if f.suffix not in (".onnx", ".npz") or (dest / f.name).exists() or not _is_valid(f):
            continue
        side = f.with_name(f.name + ".sha256")
        shutil.copy2(side, dest / side.name)
        shutil.copy2(f, dest / f.name)


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve an ASGI ``app`` with uvicorn on a free 127.0.0.1 port; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        if time.monotonic() > deadline or not th.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        th.join(timeout=30)
        assert not th.is_alive()

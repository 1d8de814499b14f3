"""Helpers of the review tests: run folders written like the real stages, a server process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from truelabel.io import RunDir

CLASSES = ["neg", "neu", "pos"]
PASSWORD = "correct horse battery"


def make_audit_run(
    out: Path,
    n: int = 30,
    *,
    classes: list[str] | None = None,
    seed: int = 0,
    texts: list[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """An audit run folder: issues.parquet (+p_<class>), summary.json, run.json kind=audit.

    Item ``i`` has id ``it<i>``, given label ``classes[i % K]``; every third item's
    suggestion differs from the given label (a label issue). label_quality rises
    with ``i`` so ``it0`` is reviewed first.
    """
    classes = classes or CLASSES
    k = len(classes)
    rng = np.random.default_rng(seed)
    ids = [f"it{i}" for i in range(n)]
    given = [classes[i % k] for i in range(n)]
    issue = np.array([i % 3 == 0 for i in range(n)])
    suggested = [classes[(i + 1) % k] if issue[i] else given[i] for i in range(n)]
    probs = rng.dirichlet(np.ones(k), size=n)
    for i in range(n):
        j = classes.index(suggested[i])
        probs[i] = 0.2 * probs[i]
        probs[i, j] += 0.8
    lq = np.linspace(0.01, 0.99, n)
    df = pd.DataFrame(
        {
            "item_id": ids,
            "text": texts if texts is not None else [f"text of item {i}" for i in range(n)],
            "given_label": given,
            "suggested_label": suggested,
            "suggested_prob": probs.max(axis=1),
            "label_quality": lq,
            "is_label_issue": issue,
            "is_outlier": [i == 5 for i in range(n)],
            "duplicate_group": [("g1" if i in (7, 8) else None) for i in range(n)],
            "neighbors": [[ids[(i + 1) % n], ids[(i + 2) % n]] for i in range(n)],
            "extra_column": 1,
        }
    )
    for j, c in enumerate(classes):
        df[f"p_{c}"] = probs[:, j]
    with RunDir(out, kind="audit", overwrite=overwrite) as run:
        run.write_parquet("issues.parquet", df)
        run.write_json(
            "summary.json", {"classes": classes, "n": n, "noise_rate": float(issue.mean())}
        )
    return out


def make_aggregate_run(
    out: Path, n: int = 30, *, classes: list[str] | None = None, kind: str = "aggregate"
) -> Path:
    """An aggregate (or label) run: labels.parquet, sources.parquet, votes.parquet (3 workers)."""
    classes = classes or CLASSES
    k = len(classes)
    ids = [f"it{i}" for i in range(n)]
    labels = pd.DataFrame(
        {
            "item_id": ids,
            "label": [classes[i % k] for i in range(n)],
            "confidence": np.linspace(0.4, 0.99, n),
        }
    )
    for j, c in enumerate(classes):
        labels[f"p_{c}"] = [(0.9 if i % k == j else 0.1 / (k - 1)) for i in range(n)]
    votes = pd.DataFrame(
        [
            {"item_id": ids[i], "source": f"w{w}", "label": classes[(i + (w == 2)) % k]}
            for i in range(n)
            for w in range(3)
        ]
    )
    sources = pd.DataFrame(
        {"source": ["w0", "w1", "w2"], "n_votes": [n, n, n], "accuracy": [0.9, 0.85, 0.4]}
    )
    with RunDir(out, kind=kind) as run:
        run.write_parquet("labels.parquet", labels)
        run.write_parquet("votes.parquet", votes)
        run.write_parquet("sources.parquet", sources)
        run.write_json("summary.json", {"classes": classes, "n": n})
    return out


def token_for(client: object, name: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/login/token", data={"username": name, "password": password})  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``uvicorn truelabel.review.main:create_app`` in a subprocess on 127.0.0.1 (killable)."""

    def __init__(self, db_url: str, port: int | None = None) -> None:
        self.db_url = db_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: object = None

    def start(self, timeout: float = 60.0, env: dict[str, str] | None = None) -> Server:
        import os
        import subprocess
        import sys
        import time

        import httpx

        env = {
            **os.environ,
            "TRUELABEL_DB_URL": self.db_url,
            "TRUELABEL_LOGIN_ATTEMPTS": "1000",
            **(env or {}),
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "truelabel.review.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-proxy-headers",  # as `truelabel serve`: only --forwarded-allow-ips is trusted
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:  # type: ignore[attr-defined]
                err = self.proc.stderr.read().decode()  # type: ignore[attr-defined]
                raise RuntimeError(f"server exited: {err[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not answer /healthz in time")

    def kill9(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
        self.proc.wait(timeout=30)  # type: ignore[attr-defined]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:  # type: ignore[attr-defined]
            self.proc.terminate()  # type: ignore[attr-defined]
            try:
                self.proc.wait(timeout=20)  # type: ignore[attr-defined]
            except Exception:
                self.kill9()


def run_threads(targets: list[tuple[object, tuple[object, ...]]], timeout: float = 600) -> None:
    """Start one thread per ``(function, args)`` and wait for all of them."""
    import threading

    threads = [threading.Thread(target=fn, args=args) for fn, args in targets]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)


TAGS = ["anger", "joy", "sadness", "surprise"]
TYPES = ["LOC", "ORG", "PER"]


def make_task_run(out: Path, task: str, n: int = 6) -> Path:
    """An audit run folder of ``audit --task multilabel | regression | token`` (the columns
    and summary keys those write), ``n`` items (token: ``n`` sentences), ``it0``/sentence 0
    first in the queue.

    multilabel: item ``i`` is given ``TAGS[i % 4]`` and suggested that tag plus
    ``TAGS[(i + 1) % 4]``. regression: given ``i``, suggested ``i + 0.5``. token: sentence
    ``i`` is "Ann Lee visited Paris" with Ann Lee a given PER and Paris a given ORG
    (suggested LOC).
    """
    lq = np.linspace(0.01, 0.99, n)
    meta: dict[str, object] = {"task": task, "settings": {}}
    if task == "token":
        words = ["Ann", "Lee", "visited", "Paris", "."]
        given = ["B-PER", "I-PER", "O", "B-ORG", "O"]
        sugg = ["B-PER", "I-PER", "O", "B-LOC", "O"]
        m = len(words)
        df = pd.DataFrame(
            {
                "sentence_id": np.repeat(np.arange(n), m),
                "token_index": np.tile(np.arange(m), n),
                "token": words * n,
                "given_label": given * n,
                "suggested_label": sugg * n,
                "label_quality": np.repeat(lq, m),
                "is_label_issue": np.tile([False, False, False, True, False], n),
            }
        )
        summary: dict[str, object] = {
            "task": "token",
            "tags": ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"],
            "entity_types": TYPES,
        }
    elif task == "multilabel":
        df = pd.DataFrame(
            {
                "item_id": [f"it{i}" for i in range(n)],
                "text": [f"comment {i}" for i in range(n)],
                "given_label": [TAGS[i % 4] for i in range(n)],
                "suggested_label": [
                    ",".join(sorted({TAGS[i % 4], TAGS[(i + 1) % 4]}, key=TAGS.index))
                    for i in range(n)
                ],
                "label_quality": lq,
                "is_label_issue": [i % 2 == 0 for i in range(n)],
            }
        )
        for j, t in enumerate(TAGS):
            df[f"p_{t}"] = np.linspace(0.1, 0.9, n)[::-1] if j == 1 else 0.3
        summary = {"task": "multilabel", "tags": TAGS, "settings": {"label_sep": ","}}
        meta["settings"] = {"label_sep": ","}
    else:
        df = pd.DataFrame(
            {
                "item_id": np.arange(n),
                "text": [f"review {i}" for i in range(n)],
                "given_label": np.arange(n, dtype=np.float64),
                "suggested_label": np.arange(n) + 0.5,
                "label_quality": lq,
                "is_label_issue": [i == 0 for i in range(n)],
                "reason": ["given 0; predicted 0.5"] + [""] * (n - 1),
            }
        )
        summary = {"task": "regression"}
    with RunDir(out, kind="audit", meta=meta) as run:
        run.write_parquet("issues.parquet", df)
        run.write_json("summary.json", {"n": n, **summary})
    return out

"""The weak-supervision branch of ``truelabel train`` (--pu, --candidates-column,
--bag-column): parse, call :func:`truelabel.learn.train_weak_model`, print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from ._app import console, error_boundary


def train_weak(data: Path, out: Path, *, seed: int, overwrite: bool, **kw: Any) -> None:
    """Train, save and summarise a model from weaker supervision."""
    from ..io import check_out_dir
    from ..learn import train_weak_model

    with error_boundary():
        check_out_dir(out, kind="model", inputs=[data, kw.get("proportions")], overwrite=overwrite)
        tm = train_weak_model(data, random_state=seed, **kw)
        tm.save(out, overwrite=overwrite)
    meta = tm.metadata
    table = Table(title=f"model written to {out} ({meta['supervision']} supervision)")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("classes", ", ".join(tm.classes[:10]) + (" …" if len(tm.classes) > 10 else ""))
    for k, v in meta["training_data"].items():
        if k not in ("source", "sha256"):
            table.add_row(k.replace("_", " "), f"{v:.3f}" if isinstance(v, float) else str(v))
    if "class_prior" in meta:
        table.add_row(f"class prior ({meta['class_prior_source']})", f"{meta['class_prior']:.3f}")
        table.add_row("label frequency c", f"{meta['label_frequency']:.3f}")
    for k, v in meta["metrics"].items():
        table.add_row(k.replace("_", " "), f"{v:.3f}" if isinstance(v, float) else str(v))
    console.print(table)

"""Reading WRENCH benchmark split files (``{id: {data, label, weak_labels}}``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ._votes import VoteArrays, votes_from_matrix

__all__ = ["WrenchSplit", "is_wrench_file", "read_wrench"]


@dataclass
class WrenchSplit:
    """One WRENCH split.

    Attributes
    ----------
    data : DataFrame
        ``item_id`` plus the fields of ``data`` (``text`` …), one row per item.
    weak_labels : ndarray of shape (n_items, n_lfs), int64
        -1 = abstain.
    gold : ndarray of shape (n_items,), int64
    classes : list of str
        From ``label.json`` next to the file (else ``0..K-1``).
    """

    data: pd.DataFrame
    weak_labels: np.ndarray
    gold: np.ndarray
    classes: list[str]

    def votes(self, *, with_gold: bool = False) -> VoteArrays:
        """The weak labels as VoteArrays (optionally with gold as a gold source)."""
        return votes_from_matrix(
            self.weak_labels,
            classes=self.classes,
            item_ids=self.data["item_id"].tolist(),
            source_names=[f"lf_{j}" for j in range(self.weak_labels.shape[1])],
            gold=self.gold if with_gold else None,
        )


def is_wrench_file(path: str | Path) -> bool:
    """Whether ``path`` looks like a WRENCH split (a .json dict of records with weak_labels)."""
    p = Path(path)
    if p.suffix.lower() != ".json" or not p.is_file():
        return False
    with open(p, encoding="utf-8") as fh:
        head = fh.read(4096)
    return head.lstrip().startswith("{") and '"weak_labels"' in head


def read_wrench(path: str | Path) -> WrenchSplit:
    """Read a WRENCH ``{split}.json`` (and ``label.json`` beside it for class names)."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{p}: cannot read a WRENCH split: {exc}.") from None
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"{p}: expected a JSON object {{id: {{data, label, weak_labels}}}}.")
    ids = list(raw)
    recs = [raw[i] for i in ids]
    bad_rec = next((i for i, r in zip(ids, recs, strict=True) if not isinstance(r, dict)), None)
    if bad_rec is not None:
        raise InputError(f"{p}: record {bad_rec!r} is not an object {{data, label, weak_labels}}.")
    if any("weak_labels" not in r for r in recs):
        raise InputError(
            f"{p}: every record needs 'weak_labels' (one entry per labeling function)."
        )
    widths = {len(r["weak_labels"]) if isinstance(r["weak_labels"], list) else -1 for r in recs}
    if len(widths) != 1 or -1 in widths:
        raise InputError(f"{p}: records have different numbers of weak labels {sorted(widths)}.")
    L = _int_codes(p, ids, [r["weak_labels"] for r in recs], "weak label")
    gold = _int_codes(
        p, ids, [[r.get("label", -1) if r.get("label") is not None else -1] for r in recs], "label"
    )[:, 0]
    data = pd.DataFrame([r.get("data", {}) for r in recs])
    data.insert(0, "item_id", ids)
    label_file = p.parent / "label.json"
    if label_file.is_file():
        try:
            names = json.loads(label_file.read_text(encoding="utf-8"))
            classes = [str(names[str(k)]) for k in sorted(int(k) for k in names)]
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InputError(f'{label_file}: expected {{"0": "name", "1": …}} ({exc}).') from None
    else:
        k = int(max(L.max(), gold.max()) + 1)
        classes = [str(i) for i in range(k)]
    for what, arr in (("weak label", L), ("label", gold)):
        too_big = arr >= len(classes)
        if too_big.any():
            row = int(np.argwhere(too_big)[0, 0])
            raise InputError(
                f"{p}: record {ids[row]!r} has {what} {int(arr[too_big].ravel()[0])} but there "
                f"are {len(classes)} classes (0..{len(classes) - 1}, -1 = abstain); fix it or "
                "list every class in label.json."
            )
    return WrenchSplit(data=data, weak_labels=L, gold=gold.astype(np.int64), classes=classes)


def _int_codes(p: Path, ids: list[str], rows: list[Any], what: str) -> np.ndarray:
    """Records' class codes as an int64 matrix; codes are integers >= -1 (-1 = abstain)."""
    arr = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
    arr[:] = rows
    flat = pd.Series(arr.ravel())
    num = pd.to_numeric(flat, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(num) | (num != np.round(num)) | (num < -1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{p}: record {ids[i // arr.shape[1]]!r} has {what} {flat.iloc[i]!r}; WRENCH codes "
            "are integers 0..K-1, or -1 to abstain."
        )
    return num.reshape(arr.shape).astype(np.int64)

"""Class specifications: name, description, keywords and examples, from a list or a YAML file.

The YAML schema (``classes.yaml``) is a list of classes, or a mapping with a ``classes`` list::

    classes:
      - name: Sports
        description: News about games, teams, athletes and competitions.
        keywords: [football, match, league, olympics]
        examples: ["Federer wins in straight sets"]
      - name: World

A bare string entry is a class with a name only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import InputError

__all__ = ["ClassSpec", "dump_classes", "load_classes", "parse_classes", "read_label_inputs"]

_KEYS = ("name", "description", "keywords", "examples")


@dataclass(frozen=True)
class ClassSpec:
    """One class: its name and optional description, keywords and example texts."""

    name: str
    description: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)
    examples: tuple[str, ...] = field(default_factory=tuple)

    @property
    def readable_name(self) -> str:
        """The name with ``_``/``-`` turned into spaces (``card_arrival`` → ``card arrival``)."""
        return " ".join(self.name.replace("_", " ").replace("-", " ").split())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.keywords:
            out["keywords"] = list(self.keywords)
        if self.examples:
            out["examples"] = list(self.examples)
        return out


def _str_list(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str | int | float) for v in value
    ):
        raise InputError(
            f"{where}: {key!r} must be a list of strings; got {value!r}. "
            f'Write e.g. {key}: ["first", "second"].'
        )
    return tuple(str(v).strip() for v in value if str(v).strip())


def _one(entry: Any, where: str) -> ClassSpec:
    if isinstance(entry, str | int):
        return ClassSpec(name=str(entry).strip())
    if not isinstance(entry, dict):
        raise InputError(
            f"{where}: a class must be a name or a mapping with keys {', '.join(_KEYS)}; "
            f"got {entry!r}."
        )
    unknown = sorted(set(map(str, entry)) - set(_KEYS))
    if unknown:
        raise InputError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; a class accepts only "
            f"{', '.join(_KEYS)}. Fix the spelling or remove them."
        )
    if "name" not in entry or entry["name"] is None:
        raise InputError(f"{where}: the class has no 'name'; every class needs one.")
    desc = entry.get("description") or ""
    if not isinstance(desc, str):
        raise InputError(f"{where}: 'description' must be a string; got {desc!r}.")
    return ClassSpec(
        name=str(entry["name"]).strip(),
        description=desc.strip(),
        keywords=_str_list(entry.get("keywords"), where, "keywords"),
        examples=_str_list(entry.get("examples"), where, "examples"),
    )


def parse_classes(classes: Any, *, source: str = "classes") -> list[ClassSpec]:
    """Validate a class list given as names, dicts, ``ClassSpec`` or a comma-separated string.

    Parameters
    ----------
    classes : str, sequence of (str | dict | ClassSpec), or dict with a ``classes`` key
        ``"World,Sports"`` splits on commas.
    source : str
        Where the list came from (for messages).

    Returns
    -------
    list of ClassSpec, in the given order.

    Raises
    ------
    InputError
        Empty list, empty or duplicate names, unknown keys, wrong types.
    """
    if isinstance(classes, str):
        classes = [c for c in classes.split(",")]
    if isinstance(classes, dict):
        extra = sorted(set(map(str, classes)) - {"classes"})
        if extra:
            raise InputError(
                f"{source}: unknown top-level key(s) {', '.join(map(repr, extra))}; the file "
                "must be a list of classes or a mapping with a single 'classes' list."
            )
        classes = classes.get("classes")
    if not isinstance(classes, Sequence) or isinstance(classes, str) or len(classes) == 0:
        raise InputError(
            f"{source}: no classes given; pass at least two class names, e.g. "
            '--classes "World,Sports,Business,Sci/Tech".'
        )
    specs = [
        c if isinstance(c, ClassSpec) else _one(c, f"{source} class #{i + 1}")
        for i, c in enumerate(classes)
    ]
    empty = [i + 1 for i, s in enumerate(specs) if not s.name]
    if empty:
        raise InputError(
            f"{source}: class #{empty[0]} has an empty name ({len(empty)} empty in all); "
            "remove stray commas or give every class a name."
        )
    seen: dict[str, int] = {}
    for i, s in enumerate(specs):
        key = s.name.casefold()
        if key in seen:
            raise InputError(
                f"{source}: duplicate class name {s.name!r} (classes #{seen[key] + 1} and "
                f"#{i + 1}); class names must be unique (case-insensitive)."
            )
        seen[key] = i
    if len(specs) < 2:
        raise InputError(f"{source}: only one class ({specs[0].name!r}); give at least two.")
    return specs


def load_classes(path: str | Path) -> list[ClassSpec]:
    """Read and validate a ``classes.yaml`` (or ``.json``) file; see the module docstring."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputError(f"classes file {p} not found; check the path given to --classes-file.")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{p}: not valid YAML ({exc}); fix the syntax.") from None
    return parse_classes(data, source=str(p))


def dump_classes(classes: Sequence[ClassSpec], extra: dict[str, Any] | None = None) -> str:
    """Serialise classes as the YAML that :func:`load_classes` reads."""
    import yaml

    text = yaml.safe_dump(
        {"classes": [c.to_dict() for c in classes]}, sort_keys=False, allow_unicode=True, width=100
    )
    if extra:
        header = "".join(f"# {k}: {v}\n" for k, v in extra.items())
        text = header + text
    return text


def read_label_inputs(
    data: Any,
    *,
    classes: Any,
    classes_file: str | Path | None,
    text_column: str | None,
    id_column: str | None,
    out: str | Path | None,
    overwrite: bool,
) -> tuple[list[ClassSpec], Any, Any]:
    """What every ``label`` run reads first, checked before any slow work.

    Exactly one of ``classes`` / ``classes_file``; ``out`` checked as a ``label`` run
    folder (before embedding or calling an LLM); the table read with empty texts allowed.

    Returns
    -------
    specs : list of ClassSpec
    ds : Dataset
        ``ds.text`` is set; no labels required.
    empty : ndarray of shape (N,), bool
        Rows whose text is empty: they get no label (an abstention, no vote).
    """
    import numpy as np

    from ..io import check_out_dir, load_dataset

    if (classes is None) == (classes_file is None):
        raise InputError(
            'give the classes either as --classes "A,B,C" or as --classes-file classes.yaml '
            "(exactly one of the two)."
        )
    specs = load_classes(classes_file) if classes_file is not None else parse_classes(classes)
    if out is not None:
        check_out_dir(out, kind="label", inputs=[data, classes_file], overwrite=overwrite)
    ds = load_dataset(
        data,
        text_column=text_column,
        id_column=id_column,
        require_labels=False,
        allow_empty_text=True,
    )
    empty = np.zeros(len(ds), dtype=bool) if ds.empty_text is None else ds.empty_text
    return specs, ds, empty

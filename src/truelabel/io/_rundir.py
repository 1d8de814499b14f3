"""The output policy and the run directory: where a command may write, and how.

Every command writes its artifacts either into one run folder (``--out DIR``) or into one
file (``predict --out preds.parquet``, ``lf analyze --out table.csv``, ``taxonomy --out
classes.yaml``). :func:`check_out_dir` and :func:`check_out_file` decide, before any
computation, whether that is allowed:

- a new path, an empty folder, or a previous output *of the same kind* is (re)written;
- another kind of run (an audit over a trained model …), a non-run folder or a foreign
  file is refused unless ``overwrite=True`` (``--overwrite``);
- the command's own inputs, the folder holding them, the current folder, the home folder
  and ``/`` are always refused: publishing replaces the whole path;
- a file output must carry the suffix of the format written (a ``.csv`` name never
  receives Parquet bytes);
- the place where the staging folder (or temp file) is created must be writable.

:class:`RunDir` then writes into a hidden staging folder next to ``--out`` and renames it
into place only when the command has finished, so a crash leaves the previous state (no
folder, or the previous run) untouched and no temporary folder behind.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = [
    "RUN_MARKER",
    "RunDir",
    "check_out_dir",
    "check_out_file",
    "is_run_dir",
    "output_file_kind",
    "run_kind",
    "to_jsonable",
    "write_atomic",
    "write_table_file",
]

RUN_MARKER = "run.json"
#: key of the Parquet schema metadata naming the command that wrote a file output
PARQUET_META_KEY = b"truelabel"

_FORMAT_NAMES = {".parquet": "Parquet", ".pq": "Parquet", ".csv": "CSV", ".yaml": "YAML"}
_FORMAT_NAMES[".yml"] = "YAML"

PathLike = str | os.PathLike[str]
Inputs = Iterable[Any]


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` holds a previous truelabel run (it has ``run.json``)."""
    return (Path(path) / RUN_MARKER).is_file()


def run_kind(path: PathLike) -> str | None:
    """The ``kind`` recorded in a run folder's ``run.json`` (``None``: not a run folder).

    A marker that cannot be read gives ``"unknown"``.
    """
    marker = Path(path) / RUN_MARKER
    if not marker.is_file():
        return None
    try:
        kind = json.loads(marker.read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return "unknown"
    return str(kind) if kind else "unknown"


def _resolve(p: PathLike) -> Path:
    return Path(os.path.abspath(Path(p).expanduser())).resolve()


def _listing(p: Path, limit: int = 3) -> str:
    try:
        names = sorted(x.name for x in p.iterdir())
    except OSError:
        return ""
    shown = ", ".join(names[:limit]) + (f" … ({len(names)} entries)" if len(names) > limit else "")
    return f" ({shown})" if shown else ""


def _protected(p: Path, resolved: Path, inputs: Inputs, *, file_output: bool) -> None:
    """Refuse paths that publishing would destroy: inputs, their folders, cwd, home, root."""
    cwd = _resolve(Path.cwd())
    if resolved == cwd or resolved in cwd.parents:
        raise InputError(
            f"--out {p} is the current folder{' or holds it' if resolved != cwd else ''}; a run "
            "replaces the whole folder it is written to. Pass a new folder name, e.g. --out run1."
        )
    specials = {Path(resolved.anchor): "the root folder", _resolve(Path.home()): "your home folder"}
    if resolved in specials:
        raise InputError(
            f"--out {p} is {specials[resolved]}; a run replaces the whole folder it is written "
            "to. Pass a new folder name, e.g. --out run1."
        )
    for raw in inputs:
        if not isinstance(raw, str | os.PathLike):
            continue  # None, a DataFrame, an array: nothing on disk to protect
        ip = _resolve(raw)
        if ip == resolved:
            raise InputError(
                f"--out {p} is the input {raw}; writing there would replace your data. "
                "Pass another --out path."
            )
        if not file_output and resolved in ip.parents:
            raise InputError(
                f"--out {p} holds the input {raw}; publishing the run would delete it. "
                "Pass a new folder, e.g. --out run1."
            )
        # a run inside an input folder (Parquet parts, a model) would change what it holds;
        # a file output only matters inside an input that is itself a run (a model folder)
        if ip.is_dir() and ip in resolved.parents and (not file_output or is_run_dir(ip)):
            raise InputError(
                f"--out {p} is inside the input folder {raw}; write the output elsewhere so "
                "the input stays as it was."
            )


def _probe_writable(p: Path, resolved: Path) -> None:
    """Create and remove a temporary file where the output will be staged."""
    anc = resolved.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise InputError(f"--out {p}: {anc} is a file, so nothing can be created below it.")
    try:
        fd, probe = tempfile.mkstemp(dir=anc, prefix=".truelabel-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(
            f"--out {p}: cannot write in {anc} ({exc.strerror or exc}); choose a folder you "
            "can write to."
        ) from None
    if resolved.exists() and not os.access(resolved, os.W_OK):
        raise InputError(f"--out {p} is not writable; choose another path or fix its permissions.")


def check_out_dir(
    out: PathLike,
    *,
    kind: str | None = None,
    inputs: Inputs = (),
    overwrite: bool = False,
) -> Path:
    """Check, before any computation, that a run of ``kind`` may be published at ``out``.

    Parameters
    ----------
    out : path
        The run folder (``--out``).
    kind : str, optional
        The kind of run the command writes (``audit``, ``model``, ``aggregate`` …). A
        previous run of the same kind is replaced; a run of another kind is refused
        unless ``overwrite``. ``None`` accepts any previous run.
    inputs : iterable
        The command's input files and folders (other items, such as ``None`` or a
        DataFrame, are skipped): ``out`` may not be one of them, hold one, or lie inside
        one (never, even with ``overwrite``).
    overwrite : bool
        Replace a non-empty folder that is not a run of ``kind``.

    Returns
    -------
    Path
        ``out`` as a Path.

    Raises
    ------
    InputError
        The message names the path, what it holds, and the fix.
    """
    p = Path(out)
    resolved = _resolve(p)
    _protected(p, resolved, inputs, file_output=False)
    if p.exists():
        if not p.is_dir():
            raise InputError(
                f"--out {p} is a file; a run is a folder of files: pass a folder path "
                "(e.g. --out run1)."
            )
        prev = run_kind(p)
        if prev is not None:
            if kind is not None and prev != kind and not overwrite:
                raise InputError(
                    f"--out {p} holds a previous `{prev}` run{_listing(p)}; this command writes "
                    f"{'an' if kind[:1] in 'aeiou' else 'a'} `{kind}` run. Choose another "
                    "folder, or pass --overwrite to replace it."
                )
        elif any(p.iterdir()) and not overwrite:
            raise InputError(
                f"--out {p} exists and is not a truelabel run folder{_listing(p)}; choose another "
                "path or pass --overwrite to replace its contents."
            )
    _probe_writable(p, resolved)
    return p


def output_file_kind(path: PathLike, *, signature: str | None = None) -> str | None:
    """Which command wrote a file output: the Parquet metadata's ``kind``, or ``"text"``
    when a text file's first line starts with ``signature``; ``None`` otherwise."""
    p = Path(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            meta = pq.read_schema(p).metadata or {}
            raw = meta.get(PARQUET_META_KEY)
            return str(json.loads(raw).get("kind")) if raw else None
        except Exception:  # not Parquet, or unreadable: not ours
            return None
    if signature is None:
        return None
    try:
        with open(p, encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return None
    return "text" if first.startswith(signature) else None


def check_out_file(
    out: PathLike,
    *,
    kind: str,
    suffixes: Sequence[str],
    inputs: Inputs = (),
    overwrite: bool = False,
    signature: str | None = None,
) -> Path:
    """Check, before any computation, that a file output of ``kind`` may be written at ``out``.

    Parameters
    ----------
    out : path
        The file to write (``--out``).
    kind : str
        The command writing it (``predict``, ``lf-analyze``, ``taxonomy``); recorded in
        Parquet outputs so a later run may replace its own file.
    suffixes : sequence of str
        Accepted file suffixes (``.parquet`` …): the name must say the format written.
    inputs : iterable of paths
        The command's inputs; ``out`` may not be one of them or lie inside an input folder.
    overwrite : bool
        Replace an existing file that is not a previous output of this command.
    signature : str, optional
        For text outputs (CSV, YAML): the start of the first line that this command writes,
        by which a previous output is recognised.

    Returns
    -------
    Path
    """
    p = Path(out)
    resolved = _resolve(p)
    if p.exists() and p.is_dir():
        raise InputError(
            f"--out {p} is a folder; pass a file path such as out{suffixes[0]} "
            f"({', '.join(suffixes)})."
        )
    if p.suffix.lower() not in suffixes:
        formats = " or ".join(dict.fromkeys(_FORMAT_NAMES.get(s, s) for s in suffixes))
        raise InputError(
            f"--out {p}: this command writes {formats}; name the file with "
            f"{' or '.join(suffixes)} (e.g. {p.stem or 'out'}{suffixes[0]}) so the name says "
            "the format."
        )
    _protected(p, resolved, inputs, file_output=True)
    if p.exists() and not overwrite:
        prev = output_file_kind(p, signature=signature)
        mine = prev == kind or (prev == "text" and signature is not None)
        if not mine:
            raise InputError(
                f"--out {p} exists and is not an earlier output of this command; choose another "
                "file name, or pass --overwrite to replace it."
            )
    _probe_writable(p, resolved)
    return p


def write_table_file(out: PathLike, df: pd.DataFrame, *, kind: str) -> Path:
    """Write ``df`` atomically as Parquet (``.parquet``/``.pq``, marked with ``kind``; its
    ``attrs`` kept) or CSV.

    The format follows the suffix checked by :func:`check_out_file`.
    """
    p = Path(out)
    if p.suffix.lower() in (".parquet", ".pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .. import __version__

        table = pa.Table.from_pandas(df, preserve_index=False)
        marker = json.dumps({"kind": kind, "truelabel_version": __version__}).encode()
        extra = {PARQUET_META_KEY: marker}
        if df.attrs:  # kept as pandas.to_parquet keeps them (read back by read_parquet)
            extra[b"PANDAS_ATTRS"] = json.dumps(df.attrs).encode()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
        buf = io.BytesIO()
        pq.write_table(table, buf)
        write_atomic(p, buf.getvalue())
    else:
        write_atomic(p, df.to_csv(index=False))
    return p


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy scalars/arrays and Paths inside ``obj`` to plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_atomic(path: PathLike, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunDir:
    """Collects a command's artifacts and publishes them atomically.

    Use as a context manager::

        with RunDir(out, kind="audit") as run:
            run.write_parquet("issues.parquet", issues)
            run.write_json("summary.json", summary)
        # now `out` holds both files (or, after an exception, is as it was)

    Parameters
    ----------
    out : path
        The folder to publish.
    kind : str
        What wrote it (``audit``, ``aggregate`` …), recorded in ``run.json``; a previous
        run of another kind at ``out`` is refused unless ``overwrite`` (see
        :func:`check_out_dir`).
    overwrite : bool
        Allow replacing a folder that is not a previous run of ``kind``.
    meta : dict, optional
        Extra fields for ``run.json`` (command options, versions).
    """

    def __init__(
        self,
        out: PathLike,
        *,
        kind: str,
        overwrite: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.out = check_out_dir(out, kind=kind, overwrite=overwrite)
        self.kind = kind
        self.meta = dict(meta or {})
        self._tmp: Path | None = None

    @property
    def path(self) -> Path:
        """The staging folder files are written into until publication."""
        if self._tmp is None:
            raise RuntimeError("RunDir is only writable inside its `with` block.")
        return self._tmp

    def __enter__(self) -> RunDir:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(dir=self.out.parent, prefix=f".{self.out.name}.tmp-"))
        self._started = time.time()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tmp = self._tmp
        self._tmp = None
        if tmp is None:
            return
        if exc_type is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        try:
            self._publish(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _publish(self, tmp: Path) -> None:
        from .. import __version__

        marker = {
            "kind": self.kind,
            "truelabel_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **self.meta,
        }
        (tmp / RUN_MARKER).write_text(json.dumps(to_jsonable(marker), indent=2), encoding="utf-8")
        old: Path | None = None
        if self.out.exists():
            old = self.out.parent / f".{self.out.name}.old-{os.getpid()}-{int(time.time())}"
            os.replace(self.out, old)
        try:
            os.replace(tmp, self.out)
        except BaseException:
            if old is not None:  # put the previous run back
                os.replace(old, self.out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def file(self, name: str) -> Path:
        """Path of artifact ``name`` inside the staging folder (for writers that need a path)."""
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write_parquet(self, name: str, df: pd.DataFrame) -> Path:
        """Write a DataFrame as Parquet (index dropped)."""
        p = self.file(name)
        df.to_parquet(p, index=False)
        return p

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` as indented JSON (NumPy types converted)."""
        p = self.file(name)
        p.write_text(json.dumps(to_jsonable(obj), indent=2, allow_nan=False), encoding="utf-8")
        return p

    def write_text(self, name: str, text: str) -> Path:
        """Write a UTF-8 text file (HTML report, YAML …)."""
        p = self.file(name)
        p.write_text(text, encoding="utf-8")
        return p

    def write_npy(self, name: str, arr: np.ndarray) -> Path:
        """Write an array as ``.npy``."""
        p = self.file(name)
        np.save(p, arr, allow_pickle=False)
        return p

"""Token-labelled data: CoNLL/IOB files and ``(item, start, end, label)`` span tables.

Both become one :class:`TokenDataset`: the tokens of every sentence (item) laid end to
end, sentence boundaries as offsets (CSR style), and the tags coded as integers in one
fixed layout shared by every token stage::

    code 0          = "O"
    code 1 + 2 * t  = "B-<type t>"
    code 2 + 2 * t  = "I-<type t>"

with the entity types sorted. Tags are read in any of the usual schemes (IOB2, IOB1,
BIOES/BILOU, plain IO types) and converted to IOB2, which the model, the issue table and
the entity logic use. The numeric helpers (:func:`tags_to_spans`, :func:`spans_to_tags`)
work on these codes, vectorised over all tokens.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._types import IntArray

__all__ = [
    "DOCSTART",
    "TokenDataset",
    "load_conll",
    "load_span_table",
    "parse_conll",
    "spans_to_tags",
    "tag_names_for",
    "tags_to_spans",
    "tokenize_with_offsets",
]

#: The document separator line of CoNLL files (kept as a separator, never a sentence).
DOCSTART = "-DOCSTART-"
_TOKEN_RE = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)
_PREFIXES = {"B", "I", "E", "S", "L", "U", "M"}


@dataclass
class TokenDataset:
    """Sentences of tokens with (optional) IOB2 tags.

    Attributes
    ----------
    tokens : ndarray of shape (T,), object
        Every token of every sentence, sentence after sentence.
    offsets : ndarray of shape (S + 1,), int64
        Sentence ``s`` is ``tokens[offsets[s]:offsets[s + 1]]``.
    tags : ndarray of shape (T,), int64, or None
        Tag codes into ``tag_names`` (layout in the module docstring).
    tag_names : list of str
        ``["O", "B-<t0>", "I-<t0>", "B-<t1>", ...]``.
    doc : ndarray of shape (S,), int64
        Document number of each sentence (``-DOCSTART-`` lines start a new one; 0 when
        the file has none).
    item_ids : ndarray of shape (S,), object, or None
        Item id of each sentence (span-table input).
    texts : ndarray of shape (S,), object, or None
        The text of each item (span-table input).
    char_start, char_end : ndarray of shape (T,), int64, or None
        Character offsets of each token in its item's text (span-table input).
    file_tags : ndarray of shape (T,), object, or None
        The tags as written, when the scheme was converted to IOB2.
    scheme : str
        The scheme read: ``IOB2``, ``IOB1``, ``BIOES`` or ``IO``.
    name : str
        Where the data came from.
    line : ndarray of shape (T,), int64, or None
        1-based line number of each token in a CoNLL file.
    notes : list of str
        What the reader changed or skipped (span tables: spans moved to token boundaries,
        overlapping spans dropped).
    """

    tokens: np.ndarray
    offsets: IntArray
    tags: IntArray | None
    tag_names: list[str]
    doc: IntArray
    item_ids: np.ndarray | None = None
    texts: np.ndarray | None = None
    char_start: IntArray | None = None
    char_end: IntArray | None = None
    file_tags: np.ndarray | None = None
    scheme: str = "IOB2"
    name: str = "data"
    line: IntArray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def n_tokens(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def n_sentences(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def entity_types(self) -> list[str]:
        """Entity types in code order (``tag_names[1::2]`` without ``B-``)."""
        return [t[2:] for t in self.tag_names[1::2]]

    def sentence_of_token(self) -> IntArray:
        """Sentence index of every token, shape (T,)."""
        return np.repeat(np.arange(self.n_sentences), np.diff(self.offsets))

    def token_index(self) -> IntArray:
        """Position of every token in its sentence, shape (T,)."""
        return np.arange(self.n_tokens) - np.repeat(self.offsets[:-1], np.diff(self.offsets))

    def sentences(self, rows: IntArray) -> TokenDataset:
        """The sub-dataset of sentences ``rows`` (in that order)."""
        lens = np.diff(self.offsets)[rows]
        starts = self.offsets[:-1][rows]
        idx = _ranges(starts, lens)
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])

        def take(a: Any) -> Any:
            return None if a is None else a[idx]

        return TokenDataset(
            tokens=self.tokens[idx],
            offsets=offsets,
            tags=take(self.tags),
            tag_names=list(self.tag_names),
            doc=self.doc[rows],
            item_ids=None if self.item_ids is None else self.item_ids[rows],
            texts=None if self.texts is None else self.texts[rows],
            char_start=take(self.char_start),
            char_end=take(self.char_end),
            file_tags=take(self.file_tags),
            scheme=self.scheme,
            name=self.name,
            line=take(self.line),
        )


def _ranges(starts: IntArray, lens: IntArray) -> IntArray:
    """Concatenated ``arange(s, s + n)`` for every (s, n) pair, vectorised."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lens)
    base = np.repeat(starts - (ends - lens), lens)
    return (base + np.arange(total)).astype(np.int64)


def tag_names_for(types: list[str]) -> list[str]:
    """The tag list of the fixed layout for sorted entity ``types``."""
    names = ["O"]
    for t in sorted(types):
        names += [f"B-{t}", f"I-{t}"]
    return names


# --------------------------------------------------------------------------- tag schemes


def _split_tags(tags: np.ndarray, where: Any) -> tuple[np.ndarray, np.ndarray]:
    """Prefix (``""`` for O, ``"-"`` for unprefixed types) and type of every tag string.

    Parses each distinct tag once and maps the result back to the tokens.
    """
    uniq, inv = np.unique(tags.astype(str), return_inverse=True)
    pre = np.empty(len(uniq), dtype=object)
    typ = np.empty(len(uniq), dtype=object)
    for j, tag in enumerate(uniq.tolist()):  # loop over distinct tags, not tokens
        if tag == "O":
            pre[j], typ[j] = "", ""
        elif len(tag) > 1 and tag[1] == "-":
            if tag[0].upper() not in _PREFIXES:
                i = int(np.flatnonzero(inv == j)[0])
                raise InputError(
                    f"{where(i)}: tag {tag!r} has an unknown prefix; use O, B-TYPE, I-TYPE "
                    "(IOB), E-/S- (BIOES) or plain TYPE names."
                )
            if not tag[2:]:
                i = int(np.flatnonzero(inv == j)[0])
                raise InputError(f"{where(i)}: tag {tag!r} has no entity type after the prefix.")
            pre[j], typ[j] = tag[0].upper(), tag[2:]
        else:
            pre[j], typ[j] = "-", tag
    return pre[inv], typ[inv]


def _to_iob2(tags: np.ndarray, offsets: IntArray, where: Any) -> tuple[np.ndarray, str]:
    """Convert tag strings of any scheme to IOB2 strings; return them and the scheme name.

    IOB1 is recognised when more entities start with ``I-`` than with ``B-`` (in IOB2 an
    ``I-`` start is an annotation slip: it is kept, and the audit flags it).
    """
    n = len(tags)
    if n == 0:
        return tags.astype(object), "IOB2"
    prefix, typ = _split_tags(tags, where)
    plain = prefix == "-"
    prefixed = (prefix != "") & ~plain
    if plain.any() and prefixed.any():
        i, j = int(np.flatnonzero(plain)[0]), int(np.flatnonzero(prefixed)[0])
        raise InputError(
            f"{where(i)}: tag {tags[i]!r} has no B-/I- prefix but line "
            f"{where(j).rsplit(' ', 1)[-1]} has "
            f"{tags[j]!r}; use one tag scheme in the whole file."
        )
    first = np.zeros(n, dtype=bool)
    first[offsets[:-1][offsets[:-1] < n]] = True
    prev_typ = np.concatenate([[""], typ[:-1]])
    prev_prefix = np.concatenate([[""], prefix[:-1]])
    prev_typ[first] = ""
    prev_prefix[first] = ""
    entity = typ != ""
    if plain.any():  # IO: a run of one type is one entity
        begin = entity & (prev_typ != typ)
        scheme = "IO"
    elif np.isin(prefix, ["E", "S", "L", "U"]).any():
        begin = entity & (
            np.isin(prefix, ["B", "S", "U"])
            | (prev_typ != typ)
            | np.isin(prev_prefix, ["E", "S", "L", "U"])
        )
        scheme = "BIOES"
    else:
        i_start = entity & (prefix == "I") & (prev_typ != typ)
        b_start = entity & (prefix == "B")
        scheme = "IOB1" if i_start.sum() > b_start.sum() else "IOB2"
        if scheme == "IOB1":
            begin = entity & ((prefix == "B") | (prev_typ != typ))
        else:
            begin = entity & (prefix == "B")  # stray I- starts stay I- (flagged later)
    out = np.where(entity, np.where(begin, "B-", "I-"), "O").astype(object)
    out[entity] = out[entity] + typ[entity]
    return out, scheme


def _code_tags(iob2: np.ndarray, tag_names: list[str] | None = None) -> tuple[IntArray, list[str]]:
    types = sorted({t[2:] for t in set(iob2.tolist()) if t != "O"})
    names = tag_names if tag_names is not None else tag_names_for(types)
    lookup = {t: i for i, t in enumerate(names)}
    try:
        codes = np.fromiter((lookup[t] for t in iob2), dtype=np.int64, count=len(iob2))
    except KeyError as exc:
        raise InputError(
            f"tag {exc.args[0]!r} is not one of the model's tags {names}; the data has an "
            "entity type the model never saw."
        ) from None
    return codes, names


# --------------------------------------------------------------------------- CoNLL


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError(f"{path}: no such file.")
    if path.is_dir():
        raise InputError(f"{path} is a directory; pass a CoNLL/IOB text file.")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); CoNLL files must be UTF-8 "
            "(convert with `iconv -t utf-8`)."
        ) from None


def parse_conll(
    text: str, *, name: str = "data", labelled: bool = True, tag_names: list[str] | None = None
) -> TokenDataset:
    """Parse CoNLL/IOB text: one token per line, the tag in the last column.

    Columns are separated by tabs (when a line has one) or spaces; blank lines end a
    sentence; a line whose first column is ``-DOCSTART-`` starts a new document and is
    no sentence. ``sentence_id`` is the 0-based number of the remaining sentences in
    file order.

    Parameters
    ----------
    text : str
        The file's content.
    name : str
        The file name, for messages.
    labelled : bool
        ``False`` for unlabelled files (one column = the token; extra columns ignored).
    tag_names : list of str, optional
        Code the tags against this list (a trained model's); default: the tags found.

    Returns
    -------
    TokenDataset

    Raises
    ------
    InputError
        A token line without a tag column, a tag of no known scheme, mixed schemes,
        or no tokens at all (the message names the line).
    """
    lines = text.splitlines()
    stripped = [ln.strip() for ln in lines]
    tokens: list[str] = []
    tags: list[str] = []
    line_no: list[int] = []
    starts: list[int] = []
    docs: list[int] = []
    doc = 0
    seen_docstart = False
    in_sentence = False
    for i, ln in enumerate(stripped):
        if not ln:
            in_sentence = False
            continue
        cols = ln.split("\t") if "\t" in ln else ln.split()
        if cols[0] == DOCSTART:
            if seen_docstart or tokens:
                doc += 1
            seen_docstart = True
            in_sentence = False
            continue
        if labelled and len(cols) < 2:
            raise InputError(
                f"{name} line {i + 1}: {ln[:40]!r} has no tag column; CoNLL lines are "
                "'TOKEN [other columns] TAG' separated by spaces or tabs (blank line between "
                "sentences). For unlabelled text use `truelabel predict`."
            )
        if not in_sentence:
            starts.append(len(tokens))
            docs.append(doc)
            in_sentence = True
        tokens.append(cols[0])
        tags.append(cols[-1].strip() if labelled else "O")
        line_no.append(i + 1)
    if not tokens:
        raise InputError(f"{name}: no tokens found; is it a CoNLL/IOB file (one token per line)?")
    offsets = np.asarray(starts + [len(tokens)], dtype=np.int64)
    lines_arr = np.asarray(line_no, dtype=np.int64)
    tag_arr = np.asarray(tags, dtype=object)

    def where(i: int) -> str:
        return f"{name} line {int(lines_arr[i])}"

    iob2, scheme = _to_iob2(tag_arr, offsets, where)
    codes, names = _code_tags(iob2, tag_names)
    converted = scheme not in ("IOB2",) or bool((iob2 != tag_arr).any())
    return TokenDataset(
        tokens=np.asarray(tokens, dtype=object),
        offsets=offsets,
        tags=codes if labelled else None,
        tag_names=names,
        doc=np.asarray(docs, dtype=np.int64),
        file_tags=tag_arr if (labelled and converted) else None,
        scheme=scheme if labelled else "none",
        name=name,
        line=lines_arr,
    )


def load_conll(
    path: str | Path, *, labelled: bool = True, tag_names: list[str] | None = None
) -> TokenDataset:
    """Read a CoNLL/IOB file (optionally gzip-compressed); see :func:`parse_conll`."""
    p = Path(path)
    return parse_conll(_read_text(p), name=p.name, labelled=labelled, tag_names=tag_names)


# --------------------------------------------------------------------------- spans <-> tags


def tags_to_spans(tags: IntArray, offsets: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Entities of IOB2-coded tags, with conlleval's reading of a stray ``I-``.

    An entity starts at a ``B-`` tag, or at an ``I-`` tag whose previous token (in the
    same sentence) has another type or is ``O``; it continues over ``I-`` tags of its
    type.

    Parameters
    ----------
    tags : ndarray of shape (T,), int
        Codes in the fixed layout (0 = O, 1 + 2t = B-t, 2 + 2t = I-t).
    offsets : ndarray of shape (S + 1,), int
        Sentence boundaries.

    Returns
    -------
    start, end, type : ndarray of shape (E,), int64
        Token range ``[start, end)`` (global token indices) and type code of each entity,
        in token order.
    """
    tags = np.asarray(tags, dtype=np.int64)
    n = tags.shape[0]
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    typ = np.where(tags > 0, (tags - 1) // 2, -1)
    first = np.zeros(n, dtype=bool)
    first[offsets[:-1][offsets[:-1] < n]] = True
    prev = np.concatenate([[-1], typ[:-1]])
    prev[first] = -1
    is_b = (tags > 0) & (tags % 2 == 1)
    begin = (typ >= 0) & (is_b | (prev != typ))
    starts = np.flatnonzero(begin)
    # an entity runs while the next token continues it: same type, I- tag, same sentence
    cont = np.zeros(n, dtype=bool)
    cont[:-1] = (typ[1:] >= 0) & (typ[1:] == typ[:-1]) & ~is_b[1:] & ~first[1:]
    # end = first position >= start where cont is False, plus one
    stop_pos = np.flatnonzero(~cont)
    ends = stop_pos[np.searchsorted(stop_pos, starts)] + 1
    return starts.astype(np.int64), ends.astype(np.int64), typ[starts].astype(np.int64)


def spans_to_tags(start: IntArray, end: IntArray, typ: IntArray, n_tokens: int) -> IntArray:
    """IOB2 codes of ``n_tokens`` tokens from non-overlapping entity ranges.

    Parameters
    ----------
    start, end, typ : ndarray of shape (E,), int
        Token ranges ``[start, end)`` and type codes.
    n_tokens : int

    Returns
    -------
    tags : ndarray of shape (n_tokens,), int64
    """
    tags = np.zeros(n_tokens, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    typ = np.asarray(typ, dtype=np.int64)
    lens = end - start
    inside = _ranges(start, lens)
    tags[inside] = 2 + 2 * np.repeat(typ, lens)
    tags[start[lens > 0]] = 1 + 2 * typ[lens > 0]
    return tags


# --------------------------------------------------------------------------- span tables


def tokenize_with_offsets(texts: list[str]) -> tuple[np.ndarray, IntArray, IntArray, IntArray]:
    """Split texts into word and punctuation tokens with character offsets.

    Returns
    -------
    tokens : ndarray of shape (T,), object
    offsets : ndarray of shape (S + 1,), int64
        Text ``s`` is ``tokens[offsets[s]:offsets[s + 1]]``.
    char_start, char_end : ndarray of shape (T,), int64
    """
    toks: list[str] = []
    cs: list[int] = []
    ce: list[int] = []
    offsets = [0]
    for t in texts:
        for m in _TOKEN_RE.finditer(t):
            toks.append(m.group())
            cs.append(m.start())
            ce.append(m.end())
        offsets.append(len(toks))
    return (
        np.asarray(toks, dtype=object),
        np.asarray(offsets, dtype=np.int64),
        np.asarray(cs, dtype=np.int64),
        np.asarray(ce, dtype=np.int64),
    )


def char_spans_to_token_spans(
    item: IntArray,
    start: IntArray,
    end: IntArray,
    offsets: IntArray,
    char_start: IntArray,
    char_end: IntArray,
) -> tuple[IntArray, IntArray]:
    """Global token ranges ``[first, last + 1)`` covered by character spans.

    A token belongs to a span when their characters overlap. A span covering no token
    gets an empty range (``first == last``).
    """
    item = np.asarray(item, dtype=np.int64)
    lo = offsets[item]
    hi = offsets[item + 1]
    # tokens are sorted by char_start within an item: search inside each item's slice
    key_item = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    big = int(max(char_end.max(initial=0), np.max(end, initial=0)) + 1)
    key_end = key_item * big + char_end
    key_start = key_item * big + char_start
    first = np.searchsorted(key_end, item * big + np.asarray(start), side="right")
    last = np.searchsorted(key_start, item * big + np.asarray(end), side="left")
    first = np.clip(first, lo, hi)
    last = np.clip(last, lo, hi)
    return first.astype(np.int64), np.maximum(last, first).astype(np.int64)


def _first_present(df: pd.DataFrame, name: str, *fallbacks: str | None) -> str:
    """``name`` when ``df`` has it, else the first fallback it has, else ``name``."""
    if name in df.columns:
        return name
    return next((c for c in fallbacks if c and c in df.columns), name)


def load_span_table(
    data: str | Path | pd.DataFrame,
    spans: str | Path | pd.DataFrame | None,
    *,
    text_column: str = "text",
    id_column: str | None = None,
    item_column: str = "item_id",
    start_column: str = "start",
    end_column: str = "end",
    label_column: str = "label",
) -> TokenDataset:
    """Items with text plus a long table of character spans ``(item, start, end, label)``.

    The texts are tokenized (words and punctuation); each span covers the tokens it
    overlaps (a span cut inside a word is widened to the whole word, with a note).
    Overlapping spans of one item cannot be IOB-tagged: the earlier (then longer) one is
    kept, with a note. Items without spans are all ``O``.

    Parameters
    ----------
    data : path or DataFrame
        One row per item with ``text_column`` (and ``id_column``; default the 0-based
        row number).
    spans : path or DataFrame, or None
        The span table; ``None`` = no spans (unlabelled items). Without an
        ``item_column`` it may name items by ``id_column`` or ``item``; without a
        ``label_column``, by ``type``.
    text_column, id_column, item_column, start_column, end_column, label_column : str
        Column names.

    Returns
    -------
    TokenDataset
        One sentence per item, ``item_ids``, ``texts`` and character offsets set.
    """
    from ._readers import read_table

    df = read_table(data)
    name = Path(data).name if isinstance(data, str | Path) else "data"
    if text_column not in df.columns:
        raise InputError(
            f"{name}: no column {text_column!r} (columns: {list(df.columns)[:20]}); pass "
            "--text-column NAME."
        )
    if id_column is not None and id_column not in df.columns:
        raise InputError(f"{name}: no column {id_column!r}; pass an existing --id-column.")
    ids = (df[id_column] if id_column else pd.Series(np.arange(len(df)))).astype(str)
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].iloc[0]
        raise InputError(
            f"{name}: item id {dup!r} appears twice in {id_column!r}; ids must be unique."
        )
    texts = df[text_column].fillna("").astype(str).tolist()
    tokens, offsets, cs, ce = tokenize_with_offsets(texts)
    notes: list[str] = []
    n_tok = len(tokens)
    tags: IntArray = np.zeros(n_tok, dtype=np.int64)
    names = ["O"]
    if spans is not None:
        sp = read_table(spans)
        sname = Path(spans).name if isinstance(spans, str | Path) else "spans"
        # the item column may carry the data's id column name (or "item"), the label
        # column the name "type": the usual spellings of (item, start, end, label)
        item_column = _first_present(sp, item_column, id_column, "item")
        label_column = _first_present(sp, label_column, "type")
        need = [item_column, start_column, end_column, label_column]
        missing = [c for c in need if c not in sp.columns]
        if missing:
            raise InputError(
                f"{sname}: missing column(s) {missing} (columns: {list(sp.columns)[:20]}); a "
                "span table has one row per span: item_id, start, end, label (character "
                "offsets, end exclusive)."
            )
        pos = pd.Index(ids).get_indexer(pd.Index(sp[item_column].astype(str)))
        if (pos < 0).any():
            r = int(np.flatnonzero(pos < 0)[0])
            raise InputError(
                f"{sname} row {r}: item {sp[item_column].iloc[r]!r} is not in {name}'s "
                f"{id_column or 'row numbers'}; span items must be the data's item ids."
            )
        start = pd.to_numeric(sp[start_column], errors="coerce").to_numpy()
        end = pd.to_numeric(sp[end_column], errors="coerce").to_numpy()
        lens = np.array([len(t) for t in texts], dtype=np.int64)[pos]
        bad = ~np.isfinite(start) | ~np.isfinite(end) | (start < 0) | (end <= start) | (end > lens)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{sname} row {r}: span [{start[r]:g}, {end[r]:g}) "
                f"does not fit item {sp[item_column].iloc[r]!r} of {int(lens[r])} characters; "
                "offsets are 0-based characters with start < end <= len(text)."
            )
        labels = sp[label_column].astype(str).str.strip().to_numpy()
        if (labels == "").any() or (labels == "O").any():
            r = int(np.flatnonzero((labels == "") | (labels == "O"))[0])
            raise InputError(f"{sname} row {r}: empty span label; give every span an entity type.")
        first, last = char_spans_to_token_spans(
            pos, start.astype(np.int64), end.astype(np.int64), offsets, cs, ce
        )
        empty = last <= first
        if empty.any():
            notes.append(f"{int(empty.sum())} spans cover no word and were dropped")
        widened = ~empty & (
            (cs[np.minimum(first, n_tok - 1)] != start) | (ce[np.maximum(last - 1, 0)] != end)
        )
        if widened.any():
            notes.append(
                f"{int(widened.sum())} spans did not fall on word boundaries and were widened to whole words"
            )
        keep = np.flatnonzero(~empty)
        order = keep[np.lexsort((-(last[keep] - first[keep]), first[keep]))]
        # drop spans that overlap an earlier kept one (running max of ends)
        f, l_ = first[order], last[order]
        run_end = np.maximum.accumulate(np.concatenate([[0], l_[:-1]]))
        overlap = f < run_end
        # a dropped span must not shadow later ones: recompute with kept ends only
        if overlap.any():
            kept_end = 0
            ok = np.zeros(len(order), dtype=bool)
            for j in range(len(order)):  # loop over overlapping spans only matters rarely
                if f[j] >= kept_end:
                    ok[j] = True
                    kept_end = int(l_[j])
            notes.append(
                f"{int((~ok).sum())} spans overlapped another span of the item and were dropped"
            )
            order = order[ok]
        types = sorted(set(labels[order].tolist()))
        names = tag_names_for(types)
        tcode = np.searchsorted(np.asarray(types, dtype=object), labels[order]).astype(np.int64)
        tags = spans_to_tags(first[order], last[order], tcode, n_tok)
    return TokenDataset(
        tokens=tokens,
        offsets=offsets,
        tags=tags,
        tag_names=names,
        doc=np.arange(len(texts), dtype=np.int64),
        item_ids=ids.to_numpy(dtype=object),
        texts=np.asarray(texts, dtype=object),
        char_start=cs,
        char_end=ce,
        scheme="spans",
        name=name,
        notes=notes,
    )

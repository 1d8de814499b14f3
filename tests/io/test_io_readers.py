"""CSV delimiter and encoding detection: read what is clear, refuse what is not."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pandas as pd
import pytest

from truelabel import InputError
from truelabel.io import read_table, sniff_text_table

ROWS = [["id", "text", "label"], ["1", "café au lait, s'il vous plaît", "pos"], ["2", "bad", "neg"]]


def _write(path: Path, sep: str, encoding: str = "utf-8") -> Path:
    df = pd.DataFrame(ROWS[1:], columns=ROWS[0])
    df.to_csv(path, sep=sep, index=False, encoding=encoding)
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected(tmp_path: Path, sep: str) -> None:
    df = read_table(_write(tmp_path / "t.csv", sep))
    assert list(df.columns) == ROWS[0] and len(df) == 2
    assert df.loc[0, "text"] == "café au lait, s'il vous plaît"  # a quoted comma stays text
    assert sniff_text_table(tmp_path / "t.csv", "csv").sep == sep


def test_a_semicolon_file_is_read_with_a_note(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path / "excel.csv", ";")
    with caplog.at_level(logging.WARNING, logger="truelabel.io"):
        df = read_table(path)
    assert df["label"].tolist() == ["pos", "neg"]
    assert "semicolon-separated" in caplog.text


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_windows_1252_file_is_read_with_a_note(
    tmp_path: Path, encoding: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path / "win.csv", ",", encoding)
    with caplog.at_level(logging.WARNING, logger="truelabel.io"):
        df = read_table(path)
    assert df.loc[0, "text"] == "café au lait, s'il vous plaît"
    assert "Windows-1252" in caplog.text and "re-save" in caplog.text


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_byte_order_mark_decides(tmp_path: Path, encoding: str) -> None:
    df = read_table(_write(tmp_path / "bom.csv", ",", encoding))
    assert list(df.columns) == ROWS[0]  # no BOM glued to the first column name
    assert df.loc[0, "text"].startswith("café")


def test_compressed_and_semicolon(tmp_path: Path) -> None:
    plain = _write(tmp_path / "t.csv", ";")
    with gzip.open(tmp_path / "t.csv.gz", "wb") as fh:
        fh.write(plain.read_bytes())
    assert read_table(tmp_path / "t.csv.gz")["label"].tolist() == ["pos", "neg"]


def test_two_delimiters_that_fit_equally_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "amb.csv"
    path.write_text("id;item|text;label\nd0;0|good;pos\n")
    with pytest.raises(InputError, match=r"semicolon \(';'\) and pipe \('\|'\).*re-save"):
        read_table(path)


def test_bytes_that_are_no_text_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"id,text\n1,ok\n2,\x81\x8d\x00\n")
    with pytest.raises(InputError, match="not valid UTF-8 near byte .* re-save"):
        read_table(path)


def test_a_single_column_file_stays_comma(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("text\nhello; world\nbye\n")
    assert sniff_text_table(path, "csv").sep == ","
    assert read_table(path)["text"].tolist() == ["hello; world", "bye"]


def test_the_cli_reads_a_semicolon_latin1_export(tmp_path: Path) -> None:
    """What a spreadsheet in a French locale saves: ';' and Windows-1252."""
    from click.testing import CliRunner
    from typer.main import get_command

    from truelabel.cli import app

    rows = ["item_id;source;label"] + [
        f"{i};w{w};{'élevé' if i % 2 else 'bas'}" for i in range(30) for w in range(3)
    ]
    path = tmp_path / "votes.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("cp1252"))
    r = CliRunner().invoke(
        get_command(app), ["aggregate", str(path), "--method", "mv", "--out", str(tmp_path / "r")]
    )
    assert r.exit_code == 0, r.output
    labels = pd.read_parquet(tmp_path / "r" / "labels.parquet")
    assert set(labels["label"]) == {"élevé", "bas"}

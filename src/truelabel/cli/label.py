"""``truelabel label``: labels from class names (zero-shot) or from an LLM endpoint."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ._app import app, console, err_console, error_boundary

__all__ = ["label"]


class Featurizer(StrEnum):
    auto = "auto"
    minilm = "minilm"
    static = "static"
    tfidf = "tfidf"


@app.command()
def label(
    data: Annotated[Path, typer.Argument(help="Table of items (csv/tsv/jsonl/parquet).")],
    text_column: Annotated[str, typer.Option("--text-column", help="Column with the text.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder to write.")],
    classes: Annotated[
        str | None,
        typer.Option("--classes", help='Comma-separated class names, e.g. "World,Sports".'),
    ] = None,
    classes_file: Annotated[
        Path | None,
        typer.Option("--classes-file", help="classes.yaml: name, description, keywords, examples."),
    ] = None,
    featurizer: Annotated[
        Featurizer, typer.Option(help="Text embeddings for similarity.")
    ] = Featurizer.auto,
    refine: Annotated[
        bool, typer.Option("--refine/--no-refine", help="Transductive prototype refinement.")
    ] = True,
    balance: Annotated[
        bool, typer.Option("--balance", help="Class-prior balancing (equal share per class).")
    ] = False,
    self_train: Annotated[
        bool,
        typer.Option(
            "--self-train/--no-self-train",
            help="Relabel with a cross-fitted logistic regression on the confident labels.",
        ),
    ] = True,
    temperature: Annotated[
        float, typer.Option(help="Softmax temperature on cosine similarity.")
    ] = 0.05,
    id_column: Annotated[str | None, typer.Option("--id-column", help="Item id column.")] = None,
    label_column: Annotated[
        str | None,
        typer.Option(
            "--label-column",
            help="Known labels on some rows (empty = unknown): generalized zero-shot, or the "
            "few-shot pool with an LLM.",
        ),
    ] = None,
    llm_base_url: Annotated[
        str | None,
        typer.Option(
            "--llm-base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1."
        ),
    ] = None,
    llm_model: Annotated[
        str, typer.Option("--llm-model", help="Model name sent to the endpoint.")
    ] = "default",
    llm_api_key_env: Annotated[
        str | None,
        typer.Option("--llm-api-key-env", help="Environment variable holding the API key."),
    ] = None,
    llm_template: Annotated[
        Path | None, typer.Option("--llm-template", help="Jinja2 prompt template file.")
    ] = None,
    llm_shots: Annotated[
        int, typer.Option("--llm-shots", help="Few-shot examples per prompt.")
    ] = 0,
    llm_samples: Annotated[
        int, typer.Option("--llm-samples", help="Answers per item (confidence = agreement).")
    ] = 1,
    llm_temperature: Annotated[float, typer.Option("--llm-temperature")] = 0.0,
    llm_max_tokens: Annotated[
        int | None,
        typer.Option(
            "--llm-max-tokens",
            help="Tokens per answer; default: room for the longest class name in the JSON "
            'answer {"label": …} (an answer cut off at the limit is counted and reported).',
        ),
    ] = None,
    llm_max_calls: Annotated[
        int | None,
        typer.Option("--llm-max-calls", help="Budget: paid calls (cache hits are free)."),
    ] = None,
    llm_max_total_tokens: Annotated[
        int | None, typer.Option("--llm-max-total-tokens", help="Budget: total tokens.")
    ] = None,
    llm_concurrency: Annotated[int, typer.Option("--llm-concurrency")] = 4,
    llm_timeout: Annotated[
        float, typer.Option("--llm-timeout", help="Seconds per request.")
    ] = 60.0,
    llm_cache: Annotated[
        Path | None,
        typer.Option("--llm-cache", help="SQLite cache file (default in the cache dir)."),
    ] = None,
    llm_select: Annotated[
        int | None,
        typer.Option(
            "--llm-select",
            help="Send only K items: the most representative ones (k-means typical items).",
        ),
    ] = None,
    llm_max_failed_share: Annotated[
        float | None,
        typer.Option(
            "--llm-max-failed-share",
            help="Fail (exit 1, nothing written) when more than this share of the items got "
            "no usable answer (error, or no class named); default: only when none got one.",
            min=0.0,
            max=1.0,
        ),
    ] = None,
    multi: Annotated[
        bool,
        typer.Option(
            "--multi",
            help="Multi-label: any number of the classes per item, joined with --label-sep.",
        ),
    ] = False,
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="classification (default), multilabel (= --multi) or token (entity spans "
            "from an LLM; give --entities).",
        ),
    ] = None,
    entities: Annotated[
        str | None,
        typer.Option(
            "--entities",
            help='--task token: entity types, e.g. "PER,ORG,LOC,MISC" (or --classes-file).',
        ),
    ] = None,
    label_sep: Annotated[
        str, typer.Option("--label-sep", help="--multi: separator of the joined tags.")
    ] = ",",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a non-run --out.")
    ] = False,
) -> None:
    """Label texts from class names (zero-shot similarity) or with an LLM endpoint."""
    from ..io import check_out_dir
    from ..sources import LLMLabeler
    from ..sources import label as zs_label
    from ..sources._llm import label_with_llm

    with error_boundary():
        kind = _label_task(task, multi, entities, classes, classes_file, llm_base_url)
        if kind == "token":
            classes = entities if entities is not None else classes
        check_out_dir(
            out, kind="label", inputs=[data, classes_file, llm_template], overwrite=overwrite
        )
        if llm_base_url is None:
            res: Any = zs_label(
                data,
                text_column=text_column,
                classes=classes,
                classes_file=classes_file,
                featurizer=featurizer.value,
                refine=refine,
                balance=balance,
                self_train=self_train,
                temperature=temperature,
                id_column=id_column,
                label_column=label_column,
                out=out,
                overwrite=overwrite,
                multi=kind == "multilabel",
                label_sep=label_sep,
            )
        else:
            llm = LLMLabeler(
                llm_base_url,
                llm_model,
                api_key_env=llm_api_key_env,
                template=llm_template,
                n_shots=llm_shots,
                n_samples=llm_samples,
                temperature=llm_temperature,
                max_tokens=llm_max_tokens,
                max_calls=llm_max_calls,
                max_total_tokens=llm_max_total_tokens,
                concurrency=llm_concurrency,
                timeout=llm_timeout,
                cache_path=llm_cache,
                featurizer=featurizer.value,
            )
            res = label_with_llm(
                data,
                text_column=text_column,
                llm=llm,
                classes=classes,
                classes_file=classes_file,
                id_column=id_column,
                gold_column=label_column,
                select=llm_select,
                featurizer=featurizer.value,
                out=out,
                overwrite=overwrite,
                max_failed_share=llm_max_failed_share,
                task=kind,
                label_sep=label_sep,
            )
    if llm_base_url is None:
        s = res.summary
        t = Table(title="zero-shot labels")
        t.add_column("class")
        t.add_column("items", justify="right")
        for c, n in s["per_class"].items():
            t.add_row(str(c), str(n))
        console.print(t)
        console.print(
            f"{s['n_items']} items, {s['featurizer']}, refinement "
            f"{'on' if s['refine'] else 'off'} ({s['n_iter']} rounds"
            f"{'' if s.get('refine_accepted', True) else ', undone: drifted from the names'})"
            f", self-training {'on' if s.get('self_train_accepted') else 'off'}"
        )
        if kind == "multilabel":
            console.print(
                f"multi-label: top class plus every class with p >= {s['multi_threshold']:.3f}; "
                f"{s['mean_tags_per_item']:.2f} tags per item"
            )
        console.print(
            f"mean confidence {s['mean_confidence']:.3f}; wrote {out}/labels.parquet, "
            "votes.parquet and report.html"
        )
        return
    st = res.stats
    t = Table(title=f"LLM labels: {st['source']}")
    t.add_column("what")
    t.add_column("count", justify="right")
    for key in (
        "n_items",
        "n_calls",
        "n_cache_hits",
        "n_votes",
        "n_abstain",
        "n_truncated",
        "n_failed",
        "n_skipped",
        "prompt_tokens",
        "completion_tokens",
    ):
        t.add_row(key.removeprefix("n_").replace("_", " "), str(st.get(key, 0)))
    for key in (
        "n_tags_repaired",
        "n_tags_rejected",
        "n_answers_salvaged",
        "n_spans",
        "n_spans_given",
        "n_spans_exact",
        "n_spans_repaired",
        "n_spans_rejected",
    ):
        if key in st:
            t.add_row(key.removeprefix("n_").replace("_", " "), str(st[key]))
    t.add_row("cost", f"{st['cost']:.4f}")
    console.print(t)
    if st.get("cache_rebuilt"):
        err_console.print(f"[yellow]note:[/] {st['cache_rebuilt']}")
    if st.get("stopped"):
        err_console.print(
            f"[yellow]stopped early:[/] {st['stopped']}; answers so far are cached, "
            "re-run to resume."
        )
    n_cut = int(st.get("n_truncated", 0))
    if st["n_abstain"] - n_cut:
        err_console.print(
            f"[yellow]{st['n_abstain'] - n_cut} answers named no "
            f"{'entity list' if kind == 'token' else 'class'} (abstains).[/]"
        )
    if n_cut:
        err_console.print(
            f"[yellow]{n_cut} answers were cut off at --llm-max-tokens {st['max_tokens']} before "
            "naming a class (counted as abstains); raise --llm-max-tokens.[/]"
        )
    if st["n_failed"]:
        err_console.print(
            f"[yellow]{st['n_failed']} calls failed; those items have no label "
            "(re-run to retry them; --llm-max-failed-share makes this an error).[/]"
        )
    if kind == "token":
        why = ", ".join(
            f"{st[f'n_spans_rejected_{r}']} {r.replace('_', ' ')}"
            for r in ("malformed", "unknown_label", "not_found", "overlap")
            if st.get(f"n_spans_rejected_{r}")
        )
        if why:
            err_console.print(f"[yellow]rejected spans:[/] {why}.")
        console.print(f"wrote {out}/spans.parquet, votes.parquet and report.html")
        return
    console.print(f"wrote {out}/labels.parquet, votes.parquet and report.html")


def _label_task(
    task: str | None,
    multi: bool,
    entities: str | None,
    classes: str | None,
    classes_file: Path | None,
    llm_base_url: str | None,
) -> str:
    """The kind of labels asked for, with one clear error for options that do not fit."""
    from .._errors import InputError
    from .._tasks import check_task

    kind = check_task(task) if task is not None else "classification"
    if multi:
        if kind not in ("classification", "multilabel"):
            raise InputError(f"--multi labels tag sets; it does not go with --task {kind}.")
        kind = "multilabel"
    if kind == "regression":
        raise InputError("`label --task regression` is not available; label classes or entities.")
    if kind == "token":
        if llm_base_url is None:
            raise InputError(
                "--task token asks an LLM for entity spans; give --llm-base-url (zero-shot "
                "entity spans are not available)."
            )
        given = sum(x is not None for x in (entities, classes, classes_file))
        if given == 0:
            raise InputError(
                '--task token needs the entity types: --entities "PER,ORG,LOC" (or '
                "--classes-file with descriptions)."
            )
        if given > 1:
            raise InputError(
                "give the entity types once: --entities, or --classes-file with descriptions."
            )
    elif entities is not None:
        raise InputError("--entities lists entity types; add --task token.")
    return kind

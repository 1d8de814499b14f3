"""``truelabel train``, ``truelabel predict``, ``truelabel serve-model``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..learn._defaults import (
    DEFAULT_EARLY_STOPPING,
    DEFAULT_FEATURIZER,
    DEFAULT_LABEL_NOISE,
    DEFAULT_LOSS,
)
from ._app import app, console, error_boundary, resolve_task


class FeaturizerChoice(StrEnum):
    minilm = "minilm"
    static = "static"
    tfidf = "tfidf"
    vectors = "vectors"


class LossChoice(StrEnum):
    elr = "elr"
    gce = "gce"
    sce = "sce"
    ce = "ce"
    forward = "forward"


class SchemeChoice(StrEnum):
    coteach = "coteach"
    prune = "prune"
    smallloss = "smallloss"
    plain = "plain"


class ConformalChoice(StrEnum):
    marginal = "marginal"
    class_ = "class"
    clustered = "clustered"


class LabelNoiseChoice(StrEnum):
    estimate = "estimate"
    none = "none"


class UnlabeledChoice(StrEnum):
    self_train = "self-train"
    drop = "drop"


class ModelChoice(StrEnum):
    logreg = "logreg"
    mlp = "mlp"


class TrainTask(StrEnum):
    classification = "classification"
    multilabel = "multilabel"
    token = "token"
    regression = "regression"


class LabelFilterChoice(StrEnum):
    none = "none"
    flagged = "flagged"


_FEATURIZER_DEFAULT = FeaturizerChoice(DEFAULT_FEATURIZER)
_LOSS_DEFAULT = LossChoice(DEFAULT_LOSS)
_LABEL_NOISE_DEFAULT = LabelNoiseChoice(DEFAULT_LABEL_NOISE)


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="Items table (csv/tsv/jsonl/parquet).")],
    out: Annotated[Path, typer.Option(help="Model directory to write.")],
    text_column: Annotated[str | None, typer.Option(help="Column with the text.")] = None,
    label_column: Annotated[
        str | None, typer.Option(help="Column with the (noisy) labels.")
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="Labels table with item_id and p_<class> (soft) or label columns, "
            "e.g. labels.parquet of `truelabel aggregate`."
        ),
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Column with item ids.")] = None,
    vectors_column: Annotated[
        str | None, typer.Option(help="Column with precomputed vectors (--featurizer vectors).")
    ] = None,
    featurizer: Annotated[FeaturizerChoice, typer.Option(help="Text features.")] = (
        _FEATURIZER_DEFAULT
    ),
    model: Annotated[ModelChoice, typer.Option(help="End model.")] = ModelChoice.logreg,
    loss: Annotated[LossChoice, typer.Option(help="Training loss.")] = _LOSS_DEFAULT,
    scheme: Annotated[SchemeChoice, typer.Option(help="Training scheme.")] = SchemeChoice.plain,
    forget_rate: Annotated[
        float, typer.Option(help="smallloss/coteach: share of each batch to skip (~noise rate).")
    ] = 0.2,
    epochs: Annotated[int | None, typer.Option(help="Training epochs.")] = None,
    early_stopping: Annotated[
        bool,
        typer.Option(
            "--early-stopping/--no-early-stopping",
            help="Hold out 10% of the rows each model is fitted on and keep the epoch with "
            "the best held-out accuracy (stops memorising noisy labels).",
        ),
    ] = DEFAULT_EARLY_STOPPING,
    holdout: Annotated[
        float | None,
        typer.Option(
            help="Calibrate on this share of the rows, held out from the model. Default: "
            "a 5-fold cross-fit predicts every row out of sample and the model is trained "
            "on all rows (--task token: 0.1 held out, for the held-out entity F1)."
        ),
    ] = None,
    label_noise: Annotated[
        LabelNoiseChoice,
        typer.Option(
            help="none: calibrate as if the given labels were true; estimate: use the noise "
            "matrix that confident learning estimates, so probabilities and prediction sets "
            "aim at the true labels (right for labels flipped at random; over-confident when "
            "the model is weak or the noise sits on hard items)."
        ),
    ] = _LABEL_NOISE_DEFAULT,
    no_calibration: Annotated[
        bool, typer.Option("--no-calibration", help="Do not fit a temperature.")
    ] = False,
    conformal: Annotated[
        ConformalChoice,
        typer.Option(
            help="Conformal thresholds: one for all classes, one per class, or clustered "
            "(classes with similar score quantiles share one; rare classes use the marginal)."
        ),
    ] = ConformalChoice.marginal,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace a non-run --out folder.")] = False,
    task: Annotated[
        TrainTask | None,
        typer.Option(
            help="classification: one class per item; multilabel: a set of tags per item "
            "(--label-sep); token: a CRF tagger on a CoNLL/IOB file (or texts plus --spans); "
            "regression: a number per item. Default: read from the data (a CoNLL file, a "
            "column of tag lists, a column of numbers), else classification.",
            show_default=False,
        ),
    ] = None,
    spans: Annotated[
        Path | None,
        typer.Option(
            help="--task token: span table (item_id, start, end, label) over DATA's texts."
        ),
    ] = None,
    feature_columns: Annotated[
        str | None,
        typer.Option(
            help="Tabular input: 'a,b,c' or 'auto' (every column but the label, bag, "
            "candidates and id columns); categorical columns are one-hot encoded."
        ),
    ] = None,
    pu: Annotated[
        bool,
        typer.Option(
            "--pu",
            help="Positives only: rows whose label equals --positive-label are labeled "
            "positives, rows with an empty label are unlabeled (nnPU, prior estimated).",
        ),
    ] = False,
    positive_label: Annotated[str, typer.Option(help="--pu: the positive class value.")] = "1",
    prior: Annotated[
        float | None, typer.Option(help="--pu: the class prior P(positive), if known.")
    ] = None,
    candidates_column: Annotated[
        str | None,
        typer.Option(help="Partial labels: column of candidate labels joined by --label-sep."),
    ] = None,
    label_sep: Annotated[
        str | None,
        typer.Option(
            help="Separator of the tags (--task multilabel, default ',') or of the candidate "
            "labels (--candidates-column, default '|')."
        ),
    ] = None,
    label_filter: Annotated[
        LabelFilterChoice | None,
        typer.Option(
            help="--task multilabel/regression: 'flagged' leaves out what a cross-fitted audit "
            "flags (tag cells / items) before training; default 'none' (see BENCHMARKS.md)."
        ),
    ] = None,
    bag_column: Annotated[
        str | None, typer.Option(help="Label proportions: column naming each row's bag.")
    ] = None,
    proportions: Annotated[
        Path | None,
        typer.Option(help="Label proportions: table `bag,<class>,…` of class shares per bag."),
    ] = None,
    unlabeled: Annotated[
        UnlabeledChoice,
        typer.Option(
            help="Rows with an empty label: learn from them too (semi-supervised "
            "self-training with confidence-weighted pseudo-labels) or drop them."
        ),
    ] = UnlabeledChoice.self_train,
) -> None:
    """Train a noise-robust, calibrated classifier (or, with --task token, a token tagger)
    and save it as a model directory.

    Weaker supervision: --pu (positives + unlabeled), --candidates-column (candidate
    sets), --bag-column with --proportions (bag class shares).
    """
    from ..io import check_out_dir
    from ..learn import train_model

    other_labels = pu or candidates_column or bag_column or labels  # no label column to read
    task = TrainTask(
        resolve_task(
            None if task is None else task.value,
            data,
            label_column=None if other_labels else label_column,
            spans=spans,
            label_sep=None if candidates_column is not None else label_sep,
        )
    )
    if task is TrainTask.token:
        _train_tagger(
            data,
            out,
            spans=spans,
            text_column=text_column,
            id_column=id_column,
            epochs=epochs,
            holdout=holdout,
            seed=seed,
            overwrite=overwrite,
            unused={
                "--label-column": label_column,
                "--labels": labels,
                "--vectors-column": vectors_column,
                "--featurizer": None if featurizer is FeaturizerChoice.minilm else featurizer,
                "--model": None if model is ModelChoice.logreg else model,
                "--loss": None if loss is LossChoice.ce else loss,
                "--scheme": None if scheme is SchemeChoice.plain else scheme,
                "--early-stopping": early_stopping or None,
                "--no-calibration": no_calibration or None,
                "--conformal": None if conformal is ConformalChoice.marginal else conformal,
                "--feature-columns": feature_columns,
                "--pu": pu or None,
                "--candidates-column": candidates_column,
                "--bag-column": bag_column,
                "--proportions": proportions,
            },
        )
        return

    if task in (TrainTask.multilabel, TrainTask.regression):
        _train_table_task(
            data,
            out,
            task=task.value,
            text_column=text_column,
            label_column=label_column,
            id_column=id_column,
            vectors_column=vectors_column,
            featurizer=featurizer.value,
            label_sep="," if label_sep is None else label_sep,
            label_filter=None if label_filter is None else label_filter.value,
            drop_missing=unlabeled is UnlabeledChoice.drop,
            seed=seed,
            overwrite=overwrite,
            unused={
                "--labels": labels,
                "--spans": spans,
                "--label-sep": label_sep if task is TrainTask.regression else None,
                "--model": None if model is ModelChoice.logreg else model,
                "--loss": None if loss is _LOSS_DEFAULT else loss,
                "--scheme": None if scheme is SchemeChoice.plain else scheme,
                "--epochs": epochs,
                "--early-stopping": (early_stopping != DEFAULT_EARLY_STOPPING) or None,
                "--holdout": holdout,
                "--label-noise": None if label_noise is _LABEL_NOISE_DEFAULT else label_noise,
                "--no-calibration": no_calibration or None,
                "--conformal": None if conformal is ConformalChoice.marginal else conformal,
                "--feature-columns": feature_columns,
                "--pu": pu or None,
                "--candidates-column": candidates_column,
                "--bag-column": bag_column,
                "--proportions": proportions,
            },
        )
        return
    if label_filter is not None:
        with error_boundary():
            from .._errors import InputError

            raise InputError("--label-filter applies to --task multilabel and regression.")
    if label_sep is None:
        label_sep = "|"
    modes = [
        m
        for m, on in (("pu", pu), ("partial", candidates_column), ("proportions", bag_column))
        if on
    ]
    if len(modes) > 1:
        with error_boundary():
            from .._errors import InputError

            raise InputError(
                f"choose one kind of weak supervision; got {', '.join(modes)} "
                "(--pu, --candidates-column, --bag-column)."
            )
    weak = modes[0] if modes else None
    if weak is not None:
        from ._weak import train_weak

        train_weak(
            data,
            out,
            mode=weak,
            label_column=label_column,
            positive_label=positive_label,
            prior=prior,
            candidates_column=candidates_column,
            label_sep=label_sep,
            bag_column=bag_column,
            proportions=proportions,
            text_column=text_column,
            id_column=id_column,
            vectors_column=vectors_column,
            feature_columns=feature_columns,
            featurizer=featurizer.value,
            model=model.value,
            epochs=epochs,
            seed=seed,
            overwrite=overwrite,
        )
        return
    with error_boundary():
        if spans is not None:
            from .._errors import InputError

            raise InputError("--spans labels tokens; add --task token.")
        check_out_dir(out, kind="model", inputs=[data, labels], overwrite=overwrite)
        tm = train_model(
            data,
            text_column=text_column,
            label_column=label_column,
            labels=labels,
            id_column=id_column,
            vectors_column=vectors_column,
            feature_columns=feature_columns,
            featurizer=featurizer.value,
            model=model.value,
            loss=loss.value,
            scheme=scheme.value,
            forget_rate=forget_rate,
            epochs=epochs,
            early_stopping=early_stopping,
            holdout=holdout,
            calibrate=not no_calibration,
            conformal=conformal.value,
            label_noise=label_noise.value,
            random_state=seed,
            unlabeled=unlabeled.value,
        )
        tm.save(out, overwrite=overwrite)
    m = tm.metadata["metrics"]
    noise = tm.metadata["label_noise"]
    oos = "cross-fitted" if m["calibration_data"] == "crossfit" else "held-out"
    table = Table(title=f"model written to {out}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("classes", str(len(tm.classes)))
    n_left = tm.metadata["training_data"].get("n_rows_without_label_left_out", 0)
    if n_left:
        table.add_row("rows without a label, left out", str(n_left))
    table.add_row(
        "items: model / calibration",
        f"{m['n_train']} / {m['n_calibration']} ({oos})",
    )
    if "noise_rate" in noise:
        used = "" if noise.get("used_for_calibration") else " (not used)"
        table.add_row("label noise rate, confident learning", f"{noise['noise_rate']:.3f}{used}")
        if noise.get("used_for_calibration"):
            table.add_row(
                "label noise rate used for calibration", f"{noise['noise_rate_used']:.3f}"
            )
    table.add_row(f"{oos} accuracy vs given labels", f"{m['accuracy_vs_given_labels']:.3f}")
    target = "true labels" if noise.get("used_for_calibration") else "given labels"
    table.add_row(f"mean confidence (calibrated to the {target})", f"{m['mean_confidence']:.3f}")
    table.add_row("temperature", f"{tm.temperature:.3f}")
    table.add_row(f"mean set size (alpha={tm.conformal['alphas'][0]})", f"{m['mean_set_size']:.2f}")
    semi = tm.metadata.get("semi_supervised")
    if semi:
        oof = semi["guard_heldout_accuracy"]
        table.add_row(
            "unlabeled rows pseudo-labeled",
            f"{semi['n_pseudo_labeled']} of {tm.metadata['training_data']['n_unlabeled']}"
            + ("" if semi["accepted"] else " (drift guard: not used)"),
        )
        table.add_row(
            "drift guard: accuracy w/o → with pseudo-labels",
            f"{oof.get('labeled_only', float('nan')):.3f} → "
            f"{oof.get('with_pseudo_labels', float('nan')):.3f}",
        )
    console.print(table)
    if noise.get("used_for_calibration") and noise.get("noise_scale_cap") == 0.0:
        console.print(
            "note: the cross-fitted predictions agree with the given labels no more often "
            "than the most frequent label does, so the model cannot tell label noise from "
            "its own errors: calibrated as if the labels were true."
        )
    if noise.get("note"):
        console.print(f"note: {noise['note']}")


def _refuse_options_of_other_tasks(unused: dict[str, object], task: str) -> None:
    """One :class:`InputError` naming every option in ``unused`` that was given."""
    from .._errors import InputError

    given = [flag for flag, v in unused.items() if v is not None]
    if given:
        raise InputError(f"{', '.join(given)} does not apply to `train --task {task}`.")


def _train_table_task(
    data: Path,
    out: Path,
    *,
    task: str,
    label_filter: str | None,
    seed: int,
    overwrite: bool,
    unused: dict[str, object],
    **kw: object,
) -> None:
    from .._errors import InputError
    from ..io import check_out_dir
    from ..learn import TRAIN_TASKS

    with error_boundary():
        _refuse_options_of_other_tasks(unused, task)
        check_out_dir(out, kind="model", inputs=[data], overwrite=overwrite)
        if task == "regression":
            kw.pop("label_sep")
        elif kw.pop("drop_missing"):
            raise InputError(
                "--unlabeled drop applies to --task regression (an empty tag cell means no tag)."
            )
        if label_filter is not None:
            kw["label_filter"] = label_filter
        tm = TRAIN_TASKS.get(task)(data, random_state=seed, **kw)
        tm.save(out, overwrite=overwrite)
    m = tm.metadata["metrics"]
    alpha = tm.conformal["alphas"][0]
    table = Table(title=f"{task} model written to {out}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("training rows", str(m["n_calibration"]))
    if task == "multilabel":
        table.add_row("tags", str(len(tm.classes)))
        table.add_row("tag cells left out (--label-filter)", str(m["n_cells_filtered"]))
        table.add_row(
            "cross-fitted micro / macro F1 (vs given tags)",
            f"{m['oof_micro_f1']:.3f} / {m['oof_macro_f1']:.3f}",
        )
        table.add_row(
            f"items whose set holds all their tags (alpha={alpha})",
            f"{m['set_coverage_of_given_tags']:.3f}",
        )
        table.add_row(
            "mean set size / mean given tags",
            f"{m['mean_set_size']:.2f} / {m['mean_given_tags']:.2f}",
        )
    else:
        table.add_row("items left out (--label-filter)", str(m["n_items_filtered"]))
        table.add_row(
            "cross-fitted MAE: model / ridge", f"{m['oof_mae']:.4g} / {m['ridge_oof_mae']:.4g}"
        )
        table.add_row("cross-fitted R²", f"{m['oof_r2']:.3f}")
        table.add_row(
            f"interval coverage of given labels (alpha={alpha})",
            f"{m['interval_coverage_of_given_labels']:.3f}",
        )
        table.add_row("mean interval width", f"{m['mean_interval_width']:.4g}")
    console.print(table)


def _train_tagger(
    data: Path,
    out: Path,
    *,
    spans: Path | None,
    text_column: str | None,
    id_column: str | None,
    epochs: int | None,
    holdout: float | None,
    seed: int,
    overwrite: bool,
    unused: dict[str, object],
) -> None:
    from ..io import check_out_dir
    from ..learn import TRAIN_TASKS

    with error_boundary():
        _refuse_options_of_other_tasks(unused, "token")
        check_out_dir(out, kind="model", inputs=[data, spans], overwrite=overwrite)
        tt = TRAIN_TASKS.get("token")(
            data,
            spans=spans,
            text_column=text_column,
            id_column=id_column,
            holdout=0.1 if holdout is None else holdout,
            epochs=epochs,
            random_state=seed,
        )
        tt.save(out, overwrite=overwrite)
    m = tt.metadata["metrics"]
    table = Table(title=f"token tagger written to {out}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("tags", ", ".join(tt.tag_names))
    table.add_row(
        "train / held-out sentences", f"{m['n_train_sentences']} / {m['n_holdout_sentences']}"
    )
    if "holdout_entity_vs_given" in m:
        e = m["holdout_entity_vs_given"]
        table.add_row(
            "held-out token accuracy (vs given tags)", f"{m['holdout_token_accuracy_vs_given']:.4f}"
        )
        table.add_row(
            "held-out entity P / R / F1 (vs given)",
            f"{e['precision']:.4f} / {e['recall']:.4f} / {e['f1']:.4f}",
        )
    table.add_row("fit seconds", f"{tt.metadata['fit_seconds']:.1f}")
    console.print(table)


@app.command()
def predict(
    model_dir: Annotated[Path, typer.Argument(help="Model directory from `truelabel train`.")],
    data: Annotated[Path, typer.Argument(help="Items table to predict.")],
    out: Annotated[Path, typer.Option(help="Output Parquet file.")] = Path("preds.parquet"),
    text_column: Annotated[
        str | None, typer.Option(help="Text column (default: the training one).")
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Column with item ids.")] = None,
    vectors_column: Annotated[str | None, typer.Option(help="Vectors column.")] = None,
    alpha: Annotated[
        float | None, typer.Option(help="Conformal level calibrated at training (default 0.1).")
    ] = None,
    feature_columns: Annotated[
        str | None,
        typer.Option(help="Tabular models: 'auto' (the training columns) or the same list."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an --out file that is not an earlier prediction.")
    ] = False,
) -> None:
    """Predict labels, calibrated probabilities and prediction sets for a table (a token
    model: the tags of every token of a CoNLL/IOB file or of a text column)."""
    from ..io import check_out_file, write_table_file
    from ..learn import load_model, model_task, predict_table

    with error_boundary():
        is_token = model_task(model_dir) == "token"
    if is_token:
        _predict_tokens(
            model_dir, data, out, text_column=text_column, id_column=id_column, overwrite=overwrite
        )
        return
    with error_boundary():
        check_out_file(
            out,
            kind="predict",
            suffixes=(".parquet", ".pq"),
            inputs=[model_dir, data],
            overwrite=overwrite,
        )
        tm = load_model(model_dir)
        df = predict_table(
            tm,
            data,
            text_column=text_column,
            id_column=id_column,
            vectors_column=vectors_column,
            alpha=alpha,
            feature_columns=feature_columns,
        )
        write_table_file(out, df, kind="predict")
        sep = str(tm.metadata.get("label_sep", ","))
    if "prediction" in df.columns:
        console.print(
            f"{len(df)} predictions written to {out}; mean {df['prediction'].mean():.4g}, mean "
            f"interval width {(df['upper'] - df['lower']).mean():.4g}"
        )
        return
    if "n_tags" in df.columns:
        sizes = df["prediction_set"].map(lambda s: len(s.split(sep)) if s else 0)
        console.print(
            f"{len(df)} predictions written to {out}; mean tags per item "
            f"{df['n_tags'].mean():.2f}, mean conformal set size {sizes.mean():.2f}"
        )
        return
    table = Table(title=f"{len(df)} predictions written to {out}")
    table.add_column("label")
    table.add_column("items", justify="right")
    table.add_column("mean confidence", justify="right")
    for lab, g in (
        df.groupby("label")
        .agg(n=("label", "size"), c=("confidence", "mean"))
        .sort_values("n", ascending=False)
        .head(10)
        .iterrows()
    ):
        table.add_row(str(lab), str(int(g["n"])), f"{g['c']:.3f}")
    console.print(table)
    if "prediction_set" not in df.columns:
        return
    sizes = df["prediction_set"].map(len)
    console.print(
        f"mean prediction-set size {sizes.mean():.2f}; singletons {float((sizes == 1).mean()):.1%}"
    )


def _predict_tokens(
    model_dir: Path,
    data: Path,
    out: Path,
    *,
    text_column: str | None,
    id_column: str | None,
    overwrite: bool,
) -> None:
    from ..io import check_out_file, write_table_file
    from ..learn import load_tagger, predict_tokens, write_conll

    with error_boundary():
        check_out_file(
            out,
            kind="predict",
            suffixes=(".parquet", ".pq", ".conll", ".txt"),
            inputs=[model_dir, data],
            overwrite=overwrite,
        )
        tt = load_tagger(model_dir)
        df, info = predict_tokens(tt, data, text_column=text_column, id_column=id_column)
        if out.suffix.lower() in (".parquet", ".pq"):
            write_table_file(out, df, kind="predict")
        else:
            write_conll(df, out)
    console.print(
        f"{info['n_tokens']} tokens in {info['n_sentences']} sentences tagged; written to {out}"
    )
    if "entity" in info:
        e = info["entity"]
        console.print(
            f"against the file's own tags: entity P {e['precision']:.4f} R {e['recall']:.4f} "
            f"F1 [bold]{e['f1']:.4f}[/] ({e['n_gold']} entities), token accuracy "
            f"{info['token_accuracy']:.4f}",
            highlight=False,
        )


@app.command("serve-model")
def serve_model(
    model_dir: Annotated[Path, typer.Argument(help="Model directory from `truelabel train`.")],
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (1-65535).", min=1, max=65535)] = 8000,
    max_batch: Annotated[int, typer.Option(help="Items per request (more: 413).")] = 1024,
    max_body_mb: Annotated[
        float, typer.Option(help="Request body limit in MiB (more: 413).")
    ] = 16.0,
) -> None:
    """Serve a model over HTTP: POST /predict, GET /healthz, GET /model, /docs."""
    from ..learn import serve_model as _serve

    with error_boundary():
        _serve(
            model_dir,
            host=host,
            port=port,
            max_batch=max_batch,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
        )

"""Serve a trained model over HTTP: FastAPI app + uvicorn runner.

Endpoints: ``POST /predict`` (texts or vectors -> labels, probabilities, sets),
``GET /healthz``, ``GET /model`` (metadata), ``GET /openapi.json`` and ``/docs``.
Requests above ``max_body_bytes`` or ``max_batch`` items get 413; malformed JSON and
invalid fields get 422 with a ``message`` that says what is wrong.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._asgi import BodyLimit
from .._errors import InputError
from .._validation import check_listen_address
from ._artifact import TrainedModel, load_model

__all__ = ["PredictRequest", "PredictResponse", "create_app", "serve_model"]

logger = logging.getLogger(__name__)


class PredictRequest(BaseModel):
    """A batch to predict: exactly one of ``texts``, ``vectors`` or ``rows``."""

    model_config = ConfigDict(extra="forbid")

    texts: list[str] | None = Field(default=None, description="Texts to classify.")
    vectors: list[list[float]] | None = Field(
        default=None, description="Feature vectors (the model's input dimension)."
    )
    rows: list[dict[str, Any]] | None = Field(
        default=None,
        description="Table rows (column name to value) for a model trained on table columns.",
    )
    alpha: float | None = Field(
        default=None, description="Conformal level; one calibrated at training (e.g. 0.1)."
    )

    @model_validator(mode="after")
    def _one_input(self) -> PredictRequest:
        if sum(v is not None for v in (self.texts, self.vectors, self.rows)) != 1:
            raise ValueError("send exactly one of 'texts', 'vectors' or 'rows'")
        if len(self.texts or self.vectors or self.rows or []) == 0:
            raise ValueError("the batch is empty; send at least one item")
        if self.texts is not None:
            empty = [i for i, t in enumerate(self.texts) if not t.strip()]
            if empty:
                raise ValueError(f"texts[{empty[0]}] is empty; every text needs content")
        return self


class Prediction(BaseModel):
    """One item's prediction."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    prediction_set: list[str]


class PredictResponse(BaseModel):
    """Predictions, in request order."""

    predictions: list[Prediction]
    alpha: float | None


def _error_message(errors: list[Any]) -> str:
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
        if e.get("type") == "json_invalid":
            ctx = e.get("ctx", {}).get("error", "")
            parts.append(f'malformed JSON ({ctx}); send a JSON object like {{"texts": ["..."]}}')
        else:
            parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


def create_app(
    model: TrainedModel | str | Path,
    *,
    max_batch: int = 1024,
    max_body_bytes: int = 16 * 1024 * 1024,
) -> Any:
    """Build the FastAPI application serving ``model``.

    Parameters
    ----------
    model : TrainedModel or path of a model directory
    max_batch : int, default 1024
        Items per request; more gives 413.
    max_body_bytes : int, default 16 MiB
        Request body size; more gives 413.

    Returns
    -------
    fastapi.FastAPI (wrapped in the body-size middleware is done via ``app.add_middleware``)
    """
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    from .. import __version__

    tm = model if isinstance(model, TrainedModel) else load_model(model)
    task = str(tm.metadata.get("task", "classification"))
    if task != "classification":
        raise InputError(
            f"serve-model serves classifiers; this is a {task} model: use `truelabel predict`."
        )
    info = tm.to_json()
    app = FastAPI(
        title="truelabel model",
        version=__version__,
        description=f"Classes: {', '.join(tm.classes[:20])}{' …' if len(tm.classes) > 20 else ''}",
    )
    app.state.model = tm

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = list(exc.errors())
        return JSONResponse(
            status_code=422,
            content={
                "message": _error_message(errs),
                "detail": json.loads(json.dumps(errs, default=str)),
            },
        )

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness: the model is loaded."""
        return {"status": "ok", "n_classes": len(tm.classes)}

    @app.get("/model")
    def model_info() -> dict[str, Any]:
        """The model's metadata (model.json)."""
        return info

    @app.post("/predict", response_model=PredictResponse)
    def predict(req: PredictRequest) -> PredictResponse:
        """Labels, calibrated probabilities and conformal prediction sets for a batch."""
        n = len(req.texts if req.texts is not None else req.vectors or req.rows or [])
        if n > max_batch:
            raise HTTPException(
                status_code=413,
                detail=(f"batch of {n} items is larger than the limit of {max_batch}; split it."),
            )
        try:
            if req.texts is not None:
                probs = tm.predict_proba(req.texts)
            elif req.rows is not None:
                probs = tm.predict_proba(pd.DataFrame.from_records(req.rows))
            else:
                vec = np.asarray(req.vectors, dtype=np.float32)
                if vec.ndim != 2:
                    raise InputError("vectors must all have the same length.")
                probs = tm.predict_proba(vec)
            has_sets = bool(tm.conformal.get("alphas"))
            if has_sets:
                sets = tm.predict_sets(probs, alpha=req.alpha)
            else:  # no conformal calibration (weak supervision): the top class alone
                sets = np.eye(len(tm.classes), dtype=bool)[probs.argmax(axis=1)]
        except InputError as exc:
            return JSONResponse(
                status_code=422,  # type: ignore[return-value]
                content={"message": str(exc), "detail": str(exc)},
            )
        cls = tm.classes
        top = probs.argmax(axis=1)
        rows = probs.astype(np.float64).tolist()
        conf = probs.max(axis=1).astype(np.float64).tolist()
        members = [np.flatnonzero(r).tolist() for r in sets]
        # plain dicts (the schema above documents them; no per-field re-validation)
        preds = [
            {
                "label": cls[t],
                "confidence": c,
                "probabilities": dict(zip(cls, r, strict=True)),
                "prediction_set": [cls[j] for j in m],
            }
            for t, c, r, m in zip(top.tolist(), conf, rows, members, strict=True)
        ]
        alpha = (
            (req.alpha if req.alpha is not None else float(tm.conformal["alphas"][0]))
            if has_sets
            else None
        )
        return JSONResponse({"predictions": preds, "alpha": alpha})  # type: ignore[return-value]

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


def serve_model(
    model_dir: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_batch: int = 1024,
    max_body_bytes: int = 16 * 1024 * 1024,
    log_level: str = "info",
) -> None:
    """Load a model directory and serve it with uvicorn until SIGINT/SIGTERM.

    In-flight requests get up to 10 s to finish on shutdown.
    """
    import uvicorn

    check_listen_address(host, port)
    app = create_app(model_dir, max_batch=max_batch, max_body_bytes=max_body_bytes)
    tm: TrainedModel = app.state.model
    if tm.featurizer["name"] not in ("tfidf", "vectors", "tabular"):
        tm.predict_proba(["warm up"])  # load the encoder before the first request
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=10)

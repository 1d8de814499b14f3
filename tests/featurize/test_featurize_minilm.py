"""MiniLM through ONNX Runtime: shapes, determinism, agreement with sentence-transformers."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from featurize_seed import seed_models

from _shared import SHARED
from truelabel import InputError
from truelabel.featurize import LARGE_DATA_ROWS, cache_dir, featurize, resolve_featurizer
from truelabel.featurize._minilm import MiniLMFeaturizer
from truelabel.featurize._onnx import ensure_onnx_model, minilm_dir

SENTENCES = [
    "I still have not received my new card, when will it arrive?",
    "How do I top up my account using a bank transfer?",
    "The exchange rate applied to my payment looks wrong.",
    "Can I change my PIN at an ATM?",
    "Stocks rallied on Wall Street after the central bank held interest rates steady.",
    "The striker scored twice as the home side won the cup final.",
    "A new telescope captured detailed images of a distant galaxy.",
    "",
    "ok",
    "Refund please!!! " * 60,
]


@pytest.fixture
def sentences() -> list[str]:
    """Ten texts: short, long (truncated at 256 tokens), empty, punctuation."""
    return list(SENTENCES)


@pytest.fixture(scope="module", autouse=True)
def _seed_models(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Reuse already exported, hash-verified models from the user's cache (saves an export)."""
    seed_models(tmp_path_factory.getbasetemp() / "cache" / "models")


@pytest.fixture(scope="module")
def minilm() -> MiniLMFeaturizer:
    return MiniLMFeaturizer()


def test_shape_dtype_unit_norm(minilm: MiniLMFeaturizer, sentences: list[str]) -> None:
    X = minilm.transform(sentences)
    assert X.shape == (len(sentences), 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(X).all()


def test_empty_input(minilm: MiniLMFeaturizer) -> None:
    X = minilm.transform([])
    assert X.shape == (0, 384) and X.dtype == np.float32


def test_deterministic_and_batch_size_robust(
    minilm: MiniLMFeaturizer, sentences: list[str]
) -> None:
    a = minilm.transform(sentences)
    np.testing.assert_array_equal(a, minilm.transform(sentences))
    # int8 activations are quantized per batch, so other batchings differ slightly
    # (most for one-word texts padded next to long ones).
    cos = (a * MiniLMFeaturizer(batch_size=1).transform(sentences)).sum(1)
    assert cos.mean() > 0.98 and cos.min() > 0.9


def test_progress_callback(sentences: list[str]) -> None:
    calls: list[tuple[int, int]] = []
    MiniLMFeaturizer(batch_size=3, progress=lambda d, t: calls.append((d, t))).transform(sentences)
    assert calls[-1] == (len(sentences), len(sentences))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def _banking77(n: int) -> list[str]:
    path = SHARED / "text" / "banking77" / "train.csv"
    if not path.exists():  # ../shared is only present in the project's CI
        return []
    with open(path, newline="") as fh:
        return [row["text"] for _, row in zip(range(n), csv.DictReader(fh), strict=False)]


def test_agrees_with_sentence_transformers(minilm: MiniLMFeaturizer, sentences: list[str]) -> None:
    st = pytest.importorskip("sentence_transformers")
    model = st.SentenceTransformer(str(minilm_dir()), device="cpu")
    real = [t for t in sentences if len(t) > 10] + _banking77(24)
    odd = [t for t in sentences if len(t) <= 10]  # "" and "ok" lose most to int8
    ref = np.asarray(model.encode(real + odd, batch_size=32, normalize_embeddings=True))
    cos = (minilm.transform(real + odd) * ref).sum(1)
    assert cos[: len(real)].mean() >= 0.99
    assert cos.min() >= 0.95


def test_featurize_cache_hit(sentences: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    first = featurize(sentences, "minilm")

    def boom(self: MiniLMFeaturizer, texts: list[str]) -> np.ndarray:
        raise AssertionError("transform called on a cache hit")

    monkeypatch.setattr(MiniLMFeaturizer, "transform", boom)
    np.testing.assert_array_equal(featurize(sentences, "minilm"), first)
    with pytest.raises(AssertionError, match="cache hit"):
        featurize([*sentences, "one more"], "minilm")


def test_corrupted_model_is_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    from truelabel.featurize import _onnx

    models = cache_dir() / "models"
    path = ensure_onnx_model(models)
    good = path.read_bytes()
    side = path.with_name(path.name + ".sha256").read_text()
    path.write_bytes(good[: len(good) // 2])  # truncated file
    rebuilt: list[bool] = []

    def fake_export(dest: object, quantize: bool) -> None:
        rebuilt.append(quantize)
        _onnx.Path(str(dest)).write_bytes(good)
        _onnx.Path(str(dest) + ".sha256").write_text(side)

    monkeypatch.setattr(_onnx, "_export", fake_export)
    assert ensure_onnx_model(models) == path
    assert rebuilt == [True] and path.read_bytes() == good
    # a valid file is not rebuilt again
    ensure_onnx_model(models)
    assert rebuilt == [True]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"max_length": 1000}, "'max_length' parameter"),
        ({"quantize": "yes"}, "'quantize' parameter"),
        ({"progress": 3}, "'progress' parameter"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        MiniLMFeaturizer(**kwargs)  # type: ignore[arg-type]


def test_model_id_tracks_options() -> None:
    assert MiniLMFeaturizer().model_id != MiniLMFeaturizer(quantize=False).model_id
    assert MiniLMFeaturizer().model_id == MiniLMFeaturizer(batch_size=8).model_id


def test_auto_picks_static_for_large_data() -> None:
    assert resolve_featurizer("auto", LARGE_DATA_ROWS) == "minilm"
    assert resolve_featurizer("auto", LARGE_DATA_ROWS + 1) == "static"
    assert resolve_featurizer("auto", 10) == "minilm"
    with pytest.raises(InputError, match="unknown featurizer"):
        resolve_featurizer("bert", 10)

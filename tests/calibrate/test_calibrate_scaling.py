"""Temperature and vector scaling."""

from __future__ import annotations

import numpy as np
import pytest

from truelabel import InputError, NotFittedError
from truelabel.calibrate import (
    TemperatureScaling,
    VectorScaling,
    calibrate_probs,
    expected_calibration_error,
)


def _sim(n: int = 4000, k: int = 4, sharpen: float = 3.0, seed: int = 0) -> tuple:
    """True probabilities softmax(z); the 'model' reports softmax(sharpen * z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k)) * 1.5
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    u = rng.random(n)[:, None]
    y = (u > np.cumsum(p, axis=1)).sum(axis=1)
    q = np.exp(sharpen * z)
    q /= q.sum(1, keepdims=True)
    return q.astype(np.float32), y


def test_temperature_reduces_ece_of_overconfident_probs() -> None:
    q, y = _sim(sharpen=3.0)
    ts = TemperatureScaling().fit(q[:2000], y[:2000])
    assert ts.temperature_ == pytest.approx(3.0, rel=0.15)  # it undoes the sharpening
    before = expected_calibration_error(q[2000:], y[2000:])
    after = expected_calibration_error(ts.predict_proba(q[2000:]), y[2000:])
    assert before > 0.1 and after < 0.03
    assert ts.nll_after_ < ts.nll_before_


def test_temperature_below_one_for_underconfident_probs() -> None:
    q, y = _sim(sharpen=0.4)
    assert TemperatureScaling().fit(q, y).temperature_ < 1.0


def test_argmax_unchanged_and_dtype() -> None:
    q, y = _sim()
    out = TemperatureScaling().fit(q, y).predict_proba(q)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.argmax(1), q.argmax(1))
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-5)
    out64 = TemperatureScaling().fit(q, y).predict_proba(q.astype(np.float64))
    assert out64.dtype == np.float64


def test_logits_and_soft_targets() -> None:
    q, y = _sim()
    logits = np.log(q)
    t1 = TemperatureScaling(input="logits").fit(logits, y).temperature_
    t2 = TemperatureScaling().fit(q, y).temperature_
    assert t1 == pytest.approx(t2, rel=1e-3)
    soft = np.eye(q.shape[1])[y]
    assert TemperatureScaling().fit(q, soft).temperature_ == pytest.approx(t2, rel=1e-3)


def test_vector_scaling_reduces_ece() -> None:
    q, y = _sim(sharpen=2.5)
    vs = VectorScaling().fit(q[:2000], y[:2000])
    assert expected_calibration_error(vs.predict_proba(q[2000:]), y[2000:]) < 0.04
    assert vs.coef_.shape == (4,)


def test_calibrate_probs_helper() -> None:
    q, y = _sim()
    cal, t = calibrate_probs(q, y)
    assert cal.shape == q.shape and cal.dtype == np.float32 and t > 1.5
    other, t2 = calibrate_probs(q[:100], y[:100], apply_to=q[100:150])
    assert other.shape == (50, 4)


def test_errors() -> None:
    q, y = _sim(n=50)
    with pytest.raises(NotFittedError, match="not fitted"):
        TemperatureScaling().predict_proba(q)
    with pytest.raises(NotFittedError, match="not fitted"):
        VectorScaling().predict_proba(q)
    with pytest.raises(InputError, match="'input' parameter"):
        TemperatureScaling(input="scores").fit(q, y)
    with pytest.raises(InputError, match="sums to"):
        TemperatureScaling().fit(q * 2, y)
    with pytest.raises(InputError, match="NaN"):
        TemperatureScaling(input="logits").fit(np.full((3, 2), np.nan), [0, 1, 0])
    with pytest.raises(InputError, match="columns"):
        TemperatureScaling().fit(q, y).predict_proba(np.full((2, 3), 1 / 3))
    with pytest.raises(InputError, match="bounds"):
        TemperatureScaling(bounds=(2.0, 1.0)).fit(q, y)
    with pytest.raises(InputError, match="soft labels"):
        TemperatureScaling().fit(q, np.full((50, 4), 0.5))


def test_noise_aware_temperature_with_noisy_labels() -> None:
    q, y = _sim(n=8000, sharpen=2.0, seed=4)
    rng = np.random.default_rng(4)
    yn = y.copy()
    flip = rng.random(len(y)) < 0.3
    yn[flip] = (y[flip] + rng.integers(1, 4, flip.sum())) % 4
    nm = np.full((4, 4), 0.1)
    np.fill_diagonal(nm, 0.7)  # P(given = i | true = j): 30% flipped uniformly
    plain, t_plain = calibrate_probs(q, yn)
    aware, t_aware = calibrate_probs(q, yn, noise_matrix=nm)
    # plain scaling against noisy labels flattens too much; the noise-aware fit undoes
    # the sharpening (true T = 2) and is calibrated for the true labels
    assert t_plain > 3.0
    assert t_aware == pytest.approx(2.0, rel=0.15)
    assert expected_calibration_error(aware, y) < 0.03 < expected_calibration_error(plain, y)
    with pytest.raises(InputError, match="columns must sum to 1"):
        TemperatureScaling(noise_matrix=nm * 2).fit(q, yn)
    with pytest.raises(InputError, match="shape"):
        TemperatureScaling(noise_matrix=np.eye(3)).fit(q, yn)

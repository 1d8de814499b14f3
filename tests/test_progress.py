"""One progress system: library steps report, the caller decides where it goes."""

from __future__ import annotations

import io
import logging
import threading

import pytest
from rich.console import Console

from truelabel._progress import NullSink, RichSink, progress, progress_to, sink_for


def _rich() -> tuple[RichSink, io.StringIO]:
    buf = io.StringIO()
    return RichSink(Console(file=buf, force_terminal=True, width=140)), buf


def test_a_terminal_shows_bars_with_counts_and_a_note() -> None:
    sink, buf = _rich()
    with progress_to(sink), progress("cross-fit", total=5, unit="folds") as advance:
        for i in range(5):
            advance(1, note=f"fold {i + 1}")
    out = buf.getvalue()
    assert "cross-fit" in out and "5/5 folds" in out and "100%" in out


def test_a_sized_sub_step_draws_its_bar_in_the_step_row() -> None:
    sink, buf = _rich()
    with progress_to(sink), progress("featurize"):
        with progress("featurize (minilm)", total=100, unit="texts") as advance:
            advance(0, completed=100)
    out = buf.getvalue()
    assert "100/100 texts" in out
    assert out.count("✓") == 1  # one row, not two


def test_advance_from_worker_threads_is_counted() -> None:
    sink, buf = _rich()
    with progress_to(sink), progress("LLM answers", total=400, unit="answers") as advance:
        threads = [
            threading.Thread(target=lambda: [advance(1) for _ in range(100)]) for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert "400/400 answers" in buf.getvalue()


def test_without_a_display_steps_go_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    import truelabel._progress as mod

    caplog.set_level(logging.INFO, logger="truelabel.progress")
    old = mod._LOG_EVERY_S
    mod._LOG_EVERY_S = 0.0
    try:
        with progress("em", total=3, unit="iterations") as advance:
            advance(1)
    finally:
        mod._LOG_EVERY_S = old
    assert "em: 1/3 iterations" in caplog.text


def test_quiet_and_api_switches() -> None:
    assert isinstance(sink_for(False), NullSink)
    assert isinstance(sink_for(True), RichSink)
    assert sink_for(None) is None
    with progress_to(NullSink()), progress("x", total=2) as advance:
        advance(2)  # nothing drawn, nothing raised

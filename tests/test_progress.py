"""Progress output: a redrawn bar on a terminal, plain periodic lines elsewhere."""

from __future__ import annotations

import io

import pytest
from dlt.common.runtime.collector import NULL_COLLECTOR

from ingest.config import ConfigError
from ingest.progress import Progress, StepLines, dlt_progress, progress_mode


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress("bars_1d", total=25, stream=out, every=10)
    for i in range(25):
        progress.update(rows=0 if i == 3 else 100, failed=i == 3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # after 10, 20 and the last ticker
    assert lines[-1].startswith("bars_1d: 25/25 tickers, 1 failed, 2,400 rows")
    assert "\r" not in out.getvalue()


def test_a_bar_redrawn_in_place_on_a_terminal() -> None:
    out = Terminal()
    progress = Progress("bars_1m", total=4, stream=out)
    for _ in range(4):
        progress.update(rows=10)
    text = out.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n")
    assert "[########################] bars_1m: 4/4 tickers, 0 failed, 40 rows" in text


def test_progress_is_chosen_by_ingest_progress() -> None:
    assert progress_mode(Terminal(), {}) == "live"
    assert progress_mode(io.StringIO(), {}) == "plain"
    assert progress_mode(Terminal(), {"INGEST_PROGRESS": "plain"}) == "plain"
    assert progress_mode(Terminal(), {"INGEST_PROGRESS": " OFF "}) == "off"
    with pytest.raises(ConfigError, match="INGEST_PROGRESS='loud': use auto, plain or off"):
        progress_mode(io.StringIO(), {"INGEST_PROGRESS": "loud"})


def test_off_silences_dlt_and_the_bars_on_stderr(monkeypatch, capsys) -> None:
    monkeypatch.setenv("INGEST_PROGRESS", "off")
    assert dlt_progress() is NULL_COLLECTOR
    Progress("bars_1d", total=1).update(rows=5)
    assert capsys.readouterr().err == ""


def normalize(collector) -> None:
    """What dlt's normalize step reports: files done of a total, rows per table."""
    with collector("Normalize market_data in 1764620000.123"):
        collector.update("Files", 0, total=2)
        for table, rows in (("bars_1d", 700), ("_dlt_pipeline_state", 1), ("bars_1d", 64)):
            collector.update(table, rows)
        collector.update("Files", 2)


def test_dlt_steps_as_one_plain_line_each() -> None:
    out = io.StringIO()
    normalize(StepLines(out, live=False))
    assert out.getvalue() == "dlt Normalize market_data: Files 2/2, bars_1d 764; 0 s\n"


def test_dlt_steps_redrawn_in_place_on_a_terminal() -> None:
    out = Terminal()
    normalize(StepLines(out, live=True))
    assert out.getvalue() == "\rdlt Normalize market_data: Files 2/2, bars_1d 764; 0 s\033[K\n"
    assert isinstance(dlt_progress(out), StepLines)


def test_a_step_of_dlt_tables_only_prints_nothing() -> None:
    out = io.StringIO()
    collector = StepLines(out, live=False)
    with collector("Extract market_data"):
        collector.update("Resources", 1, total=1)
        collector.update("_dlt_pipeline_state", 1)
    assert out.getvalue() == ""

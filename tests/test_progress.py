"""Progress output: a redrawn bar on a terminal, plain periodic lines elsewhere."""

from __future__ import annotations

import io

from ingest.progress import Progress


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

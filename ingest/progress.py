"""Progress of a long load: a live bar on a terminal, plain lines otherwise (CI, cron, logs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts tickers done and failed and rows received for one resource of a run."""

    def __init__(
        self, label: str, total: int, stream: TextIO | None = None, every: int = 10
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.every = every  # plain mode: one line per `every` tickers, and the last
        self.done = self.failed = self.rows = 0
        self.started = time.monotonic()
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, *, rows: int = 0, failed: bool = False) -> None:
        self.done += 1
        self.failed += int(failed)
        self.rows += rows
        if self.live:
            self._draw(end="\n" if self.done == self.total else "")
        elif self.done % self.every == 0 or self.done == self.total:
            self.stream.write(self._line() + "\n")
            self.stream.flush()

    def _line(self) -> str:
        elapsed = time.monotonic() - self.started
        return (
            f"{self.label}: {self.done}/{self.total} tickers, {self.failed} failed, "
            f"{self.rows:,} rows, {elapsed:.0f}s"
        )

    def _draw(self, end: str) -> None:
        width = 24
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {self._line()}\033[K{end}")
        self.stream.flush()

"""Progress of a long load: a live bar on a terminal, plain lines otherwise (CI, cron, logs).

Two kinds: `Progress` counts the items of one resource as the project fetches them (the
tickers of a Yahoo load, their metadata requests); `dlt_progress()` is dlt's own progress of
a load's extract, normalize and load steps. `INGEST_PROGRESS` chooses for both: `auto` (the
default: live on a terminal, plain lines elsewhere), `plain`, or `off` (the tests set it).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Mapping
from typing import Literal, TextIO

from dlt.common.runtime.collector import NULL_COLLECTOR, Collector, LogCollector

from ingest.config import ConfigError

PROGRESS_VARIABLE = "INGEST_PROGRESS"
PLAIN_EVERY_S = 10.0  # plain mode: a dlt step's line at its start, every 10 s and at its end
Mode = Literal["live", "plain", "off"]


def progress_mode(stream: TextIO, environ: Mapping[str, str] | None = None) -> Mode:
    """What $INGEST_PROGRESS asks for on `stream`; a bad value is a one-line ConfigError."""
    setting = (os.environ if environ is None else environ).get(PROGRESS_VARIABLE, "auto")
    setting = setting.strip().lower() or "auto"
    if setting not in ("auto", "plain", "off"):
        raise ConfigError(f"{PROGRESS_VARIABLE}={setting!r}: use auto, plain or off")
    if setting == "auto":
        return "live" if hasattr(stream, "isatty") and stream.isatty() else "plain"
    return "plain" if setting == "plain" else "off"


class Progress:
    """Counts the items done and failed and rows received for one resource of a run."""

    def __init__(
        self,
        label: str,
        total: int,
        stream: TextIO | None = None,
        every: int = 10,
        items: str = "tickers",
    ) -> None:
        self.label = label
        self.total = total
        self.items = items  # what is counted, as the line names it: tickers, files, ...
        self.every = every  # plain mode: one line per `every` items, and the last
        self.done = self.failed = self.rows = 0
        self.started = time.monotonic()
        if stream is None:  # stderr, as $INGEST_PROGRESS says
            self.stream: TextIO = sys.stderr
            self.mode = progress_mode(self.stream)
        else:  # a stream of the caller's: live if it is a terminal
            self.stream = stream
            self.mode = progress_mode(stream, {})

    def update(self, *, rows: int = 0, failed: bool = False) -> None:
        self.done += 1
        self.failed += int(failed)
        self.rows += rows
        if self.mode == "live":
            self._draw(end="\n" if self.done == self.total else "")
        elif self.mode == "plain" and (self.done % self.every == 0 or self.done == self.total):
            self.stream.write(self._line() + "\n")
            self.stream.flush()

    def _line(self) -> str:
        elapsed = time.monotonic() - self.started
        return (
            f"{self.label}: {self.done}/{self.total} {self.items}, {self.failed} failed, "
            f"{self.rows:,} rows, {elapsed:.0f}s"
        )

    def _draw(self, end: str) -> None:
        width = 24
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {self._line()}\033[K{end}")
        self.stream.flush()


def dlt_progress(stream: TextIO | None = None) -> Collector:
    """dlt's progress for `dlt.pipeline(progress=...)`: a line per step of the load (extract,
    normalize, load), redrawn in place on a terminal, printed every PLAIN_EVERY_S elsewhere;
    nothing when $INGEST_PROGRESS is off."""
    if stream is None:  # stderr, as $INGEST_PROGRESS says
        stream, mode = sys.stderr, progress_mode(sys.stderr)
    else:  # a stream of the caller's: live if it is a terminal
        mode = progress_mode(stream, {})
    return NULL_COLLECTOR if mode == "off" else StepLines(stream, live=mode == "live")


class StepLines(LogCollector):
    """dlt's LogCollector with its dump on one line, e.g. `dlt Normalize market_data: Files 4/4,
    bars_1d 764, tickers 3; 2 s` (dlt's own dump is a block of lines with a rule and the memory
    use; its tqdm collector needs tqdm, a dev-only package here, and its bars would fight with
    the project's on one terminal line).

    Live (a terminal): the line is redrawn every second and ends when the step does; during
    an extract only the end is drawn, the project's own bars (`Progress`) show that step.
    Plain: a line at the end of a step and every `every_s` before it. dlt's own tables (its
    state) are left out, and so is a step that handled nothing else."""

    def __init__(self, stream: TextIO, *, live: bool, every_s: float = PLAIN_EVERY_S) -> None:
        super().__init__(log_period=1.0 if live else every_s, logger=stream,
                         dump_system_stats=False)  # fmt: skip
        self.stream, self.live = stream, live

    def _start(self, step: str) -> None:
        super()._start(step)
        self.last_log_time = self._clock()  # dlt logs at the first update: not a 0/N line

    def maybe_log(self) -> None:
        if not (self.live and str(self.step).startswith("Extract")):
            super().maybe_log()

    def _stop(self) -> None:
        self.ending = True
        try:
            super()._stop()
        finally:
            self.ending = False

    ending = False

    def dump_counters(self) -> None:
        line = self.step_line()
        if line is None:
            return
        if self.live:
            self.stream.write(f"\r{line}\033[K" + ("\n" if self.ending else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def step_line(self) -> str | None:
        """The step's counters on one line; None when it handled only dlt's own tables."""
        shown = {
            key: count
            for key, count in (self.counters or {}).items()
            if not self.counter_info[key].description.startswith("_dlt")
        }
        if not set(shown) - {"Resources"}:
            return None
        started = min(self.counter_info[key].start_time for key in shown)
        counts = ", ".join(
            f"{self.counter_info[key].description} {count:,}"
            + (f"/{self.counter_info[key].total:,}" if self.counter_info[key].total else "")
            for key, count in shown.items()
        )
        step = re.sub(r" in [0-9.]+$", "", str(self.step))  # dlt's step names the load id
        return f"dlt {step}: {counts}; {self._clock() - started:.0f} s"

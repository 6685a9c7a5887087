"""One measured child process: wall time and peak memory, and the statistics of repeats."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


class ChildFailed(RuntimeError):
    """A measured command exited non-zero; the message names it and its log."""


@dataclass
class Sample:
    """One run of one measure. `seconds` is what the comparison uses: the process's wall
    time for commands (dbt, the reports build), the task's own timing for in-process work."""

    seconds: float
    wall_seconds: float
    peak_rss_mib: float  # the largest resident set of the process or any of its descendants
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_child(
    command: list[str],
    *,
    env: dict[str, str],
    log_path: Path,
    cwd: Path = REPO,
    timeout: float = 7200,
) -> tuple[float, float]:
    """Run `command`; return (wall seconds, peak RSS in MiB). Its output goes to `log_path`.

    wait4 reports the child's rusage including its waited-for descendants, so ru_maxrss is
    the peak of the largest process in the tree (not a sum), for this child alone.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        timer = threading.Timer(timeout, lambda: os.killpg(process.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if process.returncode != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise ChildFailed(
            f"{' '.join(command[:4])}... exited {process.returncode} after {wall:.0f}s "
            f"(log: {log_path}):\n{tail}"
        )
    return wall, usage.ru_maxrss / 1024


def run_task(
    task: str, arguments: dict[str, Any], *, env: dict[str, str], folder: Path, name: str
) -> Sample:
    """A task of bench/tasks.py in a fresh interpreter; `seconds` is the task's own timing."""
    result_path = folder / f"{name}.json"
    wall, peak = run_child(
        [sys.executable, "-m", "bench.tasks", task, json.dumps(arguments), str(result_path)],
        env=env,
        log_path=folder / f"{name}.log",
    )
    detail = json.loads(result_path.read_text())
    return Sample(
        seconds=detail.pop("seconds"), wall_seconds=wall, peak_rss_mib=peak, detail=detail
    )


def run_command(
    command: list[str], *, env: dict[str, str], folder: Path, name: str, cwd: Path = REPO
) -> Sample:
    wall, peak = run_child(command, env=env, log_path=folder / f"{name}.log", cwd=cwd)
    return Sample(seconds=wall, wall_seconds=wall, peak_rss_mib=peak)


@dataclass(frozen=True)
class Summary:
    runs: int
    median: float
    low: float
    high: float

    @property
    def spread(self) -> float:
        """(max - min) / median: how far apart the repeats were."""
        return (self.high - self.low) / self.median if self.median else 0.0


def summarize(values: list[float]) -> Summary | None:
    if not values:
        return None
    return Summary(len(values), statistics.median(values), min(values), max(values))

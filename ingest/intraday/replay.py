"""The replay loop: a simulated clock releases each minute's bars when that minute closes;
the due bars land in raw through a dlt merge (as a real load: a restated bar replaces the
earlier one) and every `batch_minutes` landed minutes the minute models run. Each minute's
latency is the time from its landing to the end of the dbt batch that makes it queryable."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingest.config import RAW_YFINANCE, Warehouse
from ingest.intraday.feed import Arrival, SessionFeed

PIPELINE_NAME = "intraday_replay"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class BatchRecord:
    simulated_at: datetime  # the simulated clock when the batch's last minute had landed
    minutes: int  # minutes made queryable by this batch
    land_seconds: float
    transform_seconds: float
    backlog: int  # minutes due but not yet landed when the batch's landing began


@dataclass
class ReplayStats:
    """What the run measured; the summary and the tests read it."""

    session: str
    tickers: int
    speed: float
    minutes_total: int
    bars_total: int
    minutes_landed: int = 0
    bars_landed: int = 0
    latencies: list[float] = field(default_factory=list)  # per minute: landed -> queryable, s
    batches: list[BatchRecord] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def max_backlog(self) -> int:
        return max((b.backlog for b in self.batches), default=0)

    def backlog_by_third(self) -> tuple[int, int, int]:
        """The largest backlog in each third of the batches (shown; `kept_up` reads the
        trend)."""
        n = len(self.batches)
        thirds = [self.batches[i * n // 3 : (i + 1) * n // 3] for i in range(3)]
        return tuple(max((b.backlog for b in part), default=0) for part in thirds)  # type: ignore[return-value]

    def backlog_growth(self) -> float:
        """Minutes of backlog the session gained, on the trend: the least-squares slope of each
        batch's backlog on its simulated minute, times the session's minutes. The first batch
        (nothing can be due before it) and the last (the feed has ended) are left out, so the
        trend is the steady state's. One slow batch moves it little; a replay slower than
        the clock gains a backlog in proportion to the session (at an effective 40x for
        60x, a third of the session's minutes)."""
        middle = self.batches[1:-1]
        if len(middle) < 2:
            return float(max((b.backlog for b in middle), default=0))
        start = middle[0].simulated_at
        xs = [(b.simulated_at - start).total_seconds() / 60 for b in middle]
        ys = [float(b.backlog) for b in middle]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        if spread == 0:
            return 0.0
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
        return slope * self.minutes_total

    @property
    def kept_up(self) -> bool:
        """The backlog stayed bounded: on its trend the session gained no more than one batch
        (the median batch's minutes, at least one minute) of backlog."""
        sizes = sorted(b.minutes for b in self.batches)
        one_batch = max(1, sizes[len(sizes) // 2]) if sizes else 1
        return self.backlog_growth() <= one_batch

    def to_json(self) -> dict[str, Any]:
        """The figures of the run, for `--stats-json` (and `make bench`'s replay rows)."""
        transform = [b.transform_seconds for b in self.batches]
        return {
            "session": self.session,
            "tickers": self.tickers,
            "speed": "max" if math.isinf(self.speed) else self.speed,
            "minutes_total": self.minutes_total,
            "minutes_landed": self.minutes_landed,
            "bars_total": self.bars_total,
            "bars_landed": self.bars_landed,
            "wall_seconds": self.wall_seconds,
            "latency_seconds": {
                "p50": percentile(self.latencies, 50),
                "p95": percentile(self.latencies, 95),
                "max": max(self.latencies),
            }
            if self.latencies
            else None,
            "dbt_batch_seconds": {"p50": percentile(transform, 50), "max": max(transform)}
            if transform
            else None,
            "max_backlog": self.max_backlog,
            "backlog_by_third": list(self.backlog_by_third()),
            "backlog_growth_minutes": round(self.backlog_growth(), 2),
            "kept_up": self.kept_up,
            "batches": [
                {
                    "simulated_at": b.simulated_at.isoformat(),
                    "minutes": b.minutes,
                    "land_seconds": b.land_seconds,
                    "transform_seconds": b.transform_seconds,
                    "backlog": b.backlog,
                }
                for b in self.batches
            ],
        }

    def summary_lines(self) -> list[str]:
        lines = [
            f"replayed {self.session}: {self.minutes_landed}/{self.minutes_total} minutes, "
            f"{self.bars_landed} bars of {self.tickers} tickers in {self.wall_seconds:.1f} s "
            f"({len(self.batches)} dbt batches, speed {_speed(self.speed)})"
        ]
        if self.latencies:
            lines.append(
                "landing -> queryable: "
                f"p50 {percentile(self.latencies, 50):.2f} s, "
                f"p95 {percentile(self.latencies, 95):.2f} s, "
                f"max {max(self.latencies):.2f} s"
            )
        if self.batches:
            transform = [b.transform_seconds for b in self.batches]
            first, middle, last = self.backlog_by_third()
            kept_up = "kept up" if self.kept_up else "fell behind"
            lines.append(
                f"dbt batch: p50 {percentile(transform, 50):.2f} s, max {max(transform):.2f} s; "
                f"backlog (minutes due, not landed) max {self.max_backlog}, by third of the "
                f"session {first}/{middle}/{last}, gained {self.backlog_growth():+.1f} over the "
                f"session on its trend: {kept_up}"
            )
        return lines


def _speed(speed: float) -> str:
    return "max (no waiting)" if math.isinf(speed) else f"{speed:g}x"


class Lander:
    """Lands bars in raw_yfinance.bars_1m with the real load's dlt merge on (ticker, ts)."""

    def __init__(self, warehouse: Warehouse, pipelines_dir: Path) -> None:
        import dlt
        from dlt.common.runtime.collector import NULL_COLLECTOR

        import ingest.runner  # noqa: F401  (dlt settings every load uses: load ids, staging)
        from ingest.warehouse import dlt_destination

        self._pipeline = dlt.pipeline(
            pipeline_name=PIPELINE_NAME,
            destination=dlt_destination(warehouse),
            dataset_name=RAW_YFINANCE,
            pipelines_dir=str(pipelines_dir),
            progress=NULL_COLLECTOR,  # silent, as None was (dlt's types want a collector)
        )

    def land(self, arrivals: list[Arrival]) -> int:
        import dlt
        import pandas as pd

        from ingest.yfinance.normalize import BARS_1M_SCHEMA
        from ingest.yfinance.source import MERGE_DEDUPLICATED

        frame = pd.concat([a.bars for a in arrivals], ignore_index=True)
        table = pa.Table.from_pandas(frame, schema=BARS_1M_SCHEMA, preserve_index=False)
        resource = dlt.resource(
            [table],
            name="bars_1m",
            primary_key=("ticker", "ts"),
            write_disposition=MERGE_DEDUPLICATED,
        )
        self._pipeline.run(resource)
        return table.num_rows


@dataclass
class Progress:
    """What the live view shows after each step."""

    simulated_at: datetime | None
    stats: ReplayStats
    state: str  # "landing", "transforming", "waiting", "done"


def run_replay(
    feed: SessionFeed,
    land: Callable[[list[Arrival]], int],
    transform: Callable[[], float],
    *,
    speed: float,
    batch_minutes: int,
    on_progress: Callable[[Progress], Any] = lambda progress: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayStats:
    """Replay `feed`: minute i is due `i * 60 / speed` seconds after the start (all at once
    at infinite speed). Each step lands every due minute (at most `batch_minutes` at infinite
    speed, so the batches match a real-time run's) and, once `batch_minutes` minutes have
    landed since the last batch or the session is over, runs `transform`."""
    arrivals = feed.arrivals
    stats = ReplayStats(
        session=str(feed.session),
        tickers=len(feed.tickers),
        speed=speed,
        minutes_total=len(arrivals),
        bars_total=feed.bar_count,
    )
    started = clock()
    landed_at: list[float] = []  # landing instants of minutes not yet queryable
    land_seconds = 0.0
    backlog_at_batch_start: int | None = None
    next_index = 0

    def due_count() -> int:
        if math.isinf(speed):
            return len(arrivals)
        return min(len(arrivals), int((clock() - started) * speed / 60) + 1)

    while next_index < len(arrivals) or landed_at:
        due = due_count()
        if next_index < due:
            backlog = 0 if math.isinf(speed) else due - next_index - 1  # -1: the one due now
            if backlog_at_batch_start is None:
                backlog_at_batch_start = backlog
            take = due if not math.isinf(speed) else min(due, next_index + batch_minutes)
            chunk = arrivals[next_index:take]
            on_progress(Progress(chunk[-1].at, stats, "landing"))
            t0 = clock()
            stats.bars_landed += land(chunk)
            t1 = clock()
            land_seconds += t1 - t0
            landed_at.extend([t1] * len(chunk))
            next_index = take
            stats.minutes_landed = next_index
        session_over = next_index == len(arrivals)
        if landed_at and (len(landed_at) >= batch_minutes or session_over):
            on_progress(Progress(arrivals[next_index - 1].at, stats, "transforming"))
            seconds = transform()
            done = clock()
            stats.latencies.extend(done - t for t in landed_at)
            stats.batches.append(
                BatchRecord(
                    simulated_at=arrivals[next_index - 1].at,
                    minutes=len(landed_at),
                    land_seconds=land_seconds,
                    transform_seconds=seconds,
                    backlog=backlog_at_batch_start or 0,
                )
            )
            landed_at, land_seconds, backlog_at_batch_start = [], 0.0, None
            on_progress(Progress(arrivals[next_index - 1].at, stats, "landed"))
            continue
        if next_index < len(arrivals) and due_count() <= next_index:
            # Nothing due: wait for the next minute to close on the simulated clock.
            wait = started + next_index * 60 / speed - clock()
            last = arrivals[next_index - 1].at if next_index else None
            on_progress(Progress(last, stats, "waiting"))
            sleep(max(wait, 0.0))
    stats.wall_seconds = clock() - started
    on_progress(Progress(arrivals[-1].at, stats, "done"))
    return stats

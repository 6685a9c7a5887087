"""The audit trail: one row per ingest run in raw_ingest.runs, written even when the run fails."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from ingest.config import RAW_INGEST, Warehouse, pipelines_dir

if TYPE_CHECKING:
    from dlt.common.schema.typing import TColumnSchema

log = logging.getLogger(__name__)

# Exit codes of every ingest command (documented in `python -m ingest --help`).
EXIT_OK = 0
EXIT_ERROR = 1  # the run could not start or crashed: configuration, warehouse, load
EXIT_USAGE = 2  # bad command line
EXIT_PARTIAL = 3  # some tickers/files loaded, some failed, or loaded with cells that did not parse
EXIT_NOTHING_LOADED = 4  # every ticker/file failed


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunReport:
    """What one run asked for, got and wrote; becomes the row in raw_ingest.runs."""

    pipeline: str
    source: str
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: datetime = field(default_factory=utc_now)
    finished_at: datetime | None = None
    items_requested: list[str] = field(default_factory=list)
    items_failed: dict[str, str] = field(default_factory=dict)
    items_with_data: set[str] = field(default_factory=set)
    # What the run's items are, as the summary names them: tickers, files, endpoints, ...
    # raw_ingest.runs keeps the items_* counts under their historical column names
    # (tickers_requested, tickers_loaded, tickers_failed, and the failures' JSON key "ticker":
    # old warehouses have them, see row()); dbt's stg_ingest__runs names them items_* again.
    items: str = "tickers"
    # item -> {column: cells that did not parse}: the rows loaded (null cell, text kept in
    # unparsed_values) for dbt to reject with a reason; the run is partial, not failed.
    unparsed_cells: dict[str, dict[str, int]] = field(default_factory=dict)
    rows_received: int = 0
    rows_written: int = 0
    duplicates_removed: int = 0
    min_ts: datetime | None = None
    max_ts: datetime | None = None
    error: str | None = None  # run-level: why the run failed or stopped early
    load_failed: bool = False  # the load itself crashed (configuration, warehouse, dlt)

    def fail(self, item: str, reason: str, *, quiet: bool = False) -> None:
        """Record an item's failure (a ticker, file, endpoint...); several are joined."""
        if not quiet:
            log.warning("%s: %s", item, reason)
        previous = self.items_failed.get(item)
        self.items_failed[item] = f"{previous}; {reason}" if previous else reason

    def unparsed(self, item: str, cells: Mapping[str, int]) -> None:
        """Record an item's cells that did not parse, counted per column."""
        counts = self.unparsed_cells.setdefault(item, {})
        for column, count in cells.items():
            counts[column] = counts.get(column, 0) + count
        if not counts:
            del self.unparsed_cells[item]
        else:
            log.warning("%s: cells that did not parse: %s", item, _column_counts(counts))

    def received(self, item: str, rows: int, duplicates: int, first: Any, last: Any) -> None:
        self.items_with_data.add(item)
        self.rows_received += rows
        self.duplicates_removed += duplicates
        for value in (first, last):
            instant = _as_utc(value)
            if instant is None:
                continue
            self.min_ts = instant if self.min_ts is None else min(self.min_ts, instant)
            self.max_ts = instant if self.max_ts is None else max(self.max_ts, instant)

    @property
    def items_loaded(self) -> list[str]:
        return sorted(t for t in self.items_with_data if t not in self.items_failed)

    @property
    def status(self) -> str:
        if self.load_failed:
            return "failed"
        if self.items_requested and not self.items_loaded:
            return "failed"
        return "partial" if self.items_failed or self.unparsed_cells else "success"

    @property
    def exit_code(self) -> int:
        if self.load_failed:
            return EXIT_ERROR
        return {"success": EXIT_OK, "partial": EXIT_PARTIAL}.get(self.status, EXIT_NOTHING_LOADED)

    def row(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "source": self.source,
            "started_at": self.started_at,
            "finished_at": self.finished_at or utc_now(),
            "status": self.status,
            "item_kind": self.items,
            # the items under the audit table's historical column names (see `items`)
            "tickers_requested": len(self.items_requested),
            "tickers_loaded": len(self.items_loaded),
            "tickers_failed": json.dumps(
                [{"ticker": t, "reason": r} for t, r in sorted(self.items_failed.items())]
            ),
            "unparsed_cells": json.dumps(
                [
                    {"item": item, "column": column, "cells": count}
                    for item, counts in sorted(self.unparsed_cells.items())
                    for column, count in sorted(counts.items())
                ]
            ),
            "rows_received": self.rows_received,
            "rows_written": self.rows_written,
            "duplicates_removed": self.duplicates_removed,
            "min_ts": self.min_ts,
            "max_ts": self.max_ts,
            "error": self.error,
        }

    def summary(self, most: int = 5) -> str:
        """One line for the terminal; the audit row has every failure in full."""
        loaded, requested = len(self.items_loaded), len(self.items_requested)
        line = (
            f"{self.pipeline}: {self.status}; {loaded}/{requested} "
            f"{self.items} loaded, {self.rows_received} rows received, "
            f"{self.rows_written} written, {self.duplicates_removed} duplicates removed"
        )
        if self.error:
            line += f"; error: {self.error}"
        failed = sorted(self.items_failed.items())
        if failed and not self.error:
            shown = "; ".join(f"{item} ({reason})" for item, reason in failed[:most])
            more = f"; and {len(failed) - most} more" if len(failed) > most else ""
            line += f"; failed: {shown}{more} (all in raw_ingest.runs)"
        elif failed:
            line += f"; {len(failed)} {self.items} failed (all in raw_ingest.runs)"
        unparsed = sorted(self.unparsed_cells.items())
        if unparsed:
            shown = "; ".join(f"{item} ({_column_counts(c)})" for item, c in unparsed[:most])
            more = f"; and {len(unparsed) - most} more" if len(unparsed) > most else ""
            line += f"; cells that did not parse (rows loaded for dbt to reject): {shown}{more}"
        return line


def _column_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{column} {count}" for column, count in sorted(counts.items()))


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


RUNS_COLUMNS: dict[str, TColumnSchema] = {
    "run_id": {"data_type": "text", "nullable": False},
    "pipeline": {"data_type": "text"},
    "source": {"data_type": "text"},
    "started_at": {"data_type": "timestamp", "timezone": True},
    "finished_at": {"data_type": "timestamp", "timezone": True},
    "status": {"data_type": "text"},
    # what the items are (tickers, files, endpoints, ...): added later, null on older rows
    "item_kind": {"data_type": "text"},
    "tickers_requested": {"data_type": "bigint"},
    "tickers_loaded": {"data_type": "bigint"},
    "tickers_failed": {"data_type": "json"},
    "unparsed_cells": {"data_type": "json"},
    "rows_received": {"data_type": "bigint"},
    "rows_written": {"data_type": "bigint"},
    "duplicates_removed": {"data_type": "bigint"},
    "min_ts": {"data_type": "timestamp", "timezone": True},
    "max_ts": {"data_type": "timestamp", "timezone": True},
    "error": {"data_type": "text"},
}


def write_run(warehouse: Warehouse, report: RunReport) -> None:
    """Append the run's row to raw_ingest.runs (append: runs are events, never restated)."""
    import dlt
    from dlt.common.runtime.collector import NULL_COLLECTOR

    from ingest.warehouse import dlt_destination

    report.finished_at = report.finished_at or utc_now()
    pipeline = dlt.pipeline(
        pipeline_name="ingest_audit",
        destination=dlt_destination(warehouse),
        dataset_name=RAW_INGEST,
        pipelines_dir=str(pipelines_dir()),
        progress=NULL_COLLECTOR,  # one row: the load's own progress came before it
    )
    if pipeline.has_pending_data:
        # The row of a run the disk filled up (or that was killed) waits in a package: load
        # it first, as dlt's run() with pending packages loads them and drops the new data.
        pipeline.run()
    pipeline.run(
        [report.row()],
        table_name="runs",
        write_disposition="append",
        primary_key="run_id",
        columns=RUNS_COLUMNS,
    )
    log.info("audit row %s written to %s.runs", report.run_id, RAW_INGEST)

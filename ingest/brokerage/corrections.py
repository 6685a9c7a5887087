"""Correct the past: retire transactions already loaded, by hand (`brokerage-retire`).

A retired row stays in raw_brokerage.transactions with its lineage (source_file,
source_line, the load that brought it) and gains `retired_at` and `retired_reason`, which
names the command, the run (its audit row in raw_ingest.runs) and the operator's reason;
staging leaves it out, so the marts forget it on the next build. The same mechanism retires
the rows a re-sent export no longer holds (ingest/brokerage/inbox.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.common.runtime.collector import NULL_COLLECTOR

from ingest.audit import RunReport
from ingest.brokerage.inbox import live_rows
from ingest.brokerage.records import raw_table
from ingest.brokerage.source import TRANSACTIONS_HINTS
from ingest.config import RAW_BROKERAGE, ConfigError, Warehouse, pipelines_dir

PIPELINE = "brokerage_retire"


def _pipeline(warehouse: Warehouse) -> Any:
    from ingest.warehouse import dlt_destination

    return dlt.pipeline(
        pipeline_name=PIPELINE,
        destination=dlt_destination(warehouse),
        dataset_name=RAW_BROKERAGE,
        pipelines_dir=str(pipelines_dir()),
        progress=NULL_COLLECTOR,  # a few rows retired by hand: nothing to follow
    )


def rows_to_retire(
    warehouse: Warehouse, ids: Sequence[str], superseded_by: str | None
) -> list[dict[str, Any]]:
    """The live rows of `ids`; ConfigError (nothing written) if one is unknown or already
    retired, or the superseding transaction is not a live one of its own."""
    wanted = list(dict.fromkeys(ids))
    if superseded_by is not None and superseded_by in wanted:
        raise ConfigError(f"{superseded_by} cannot supersede itself")
    asked = [*wanted, *([superseded_by] if superseded_by else [])]
    marks = ", ".join(["%s"] * len(asked))
    rows = live_rows(f"transaction_id in ({marks})", *asked, pipeline=_pipeline(warehouse))
    found = {r["transaction_id"]: r for r in rows}
    unknown = [i for i in asked if i not in found]
    if unknown:
        raise ConfigError(
            f"no live transaction {', '.join(unknown)} in raw_brokerage.transactions (unknown, "
            "or retired already): nothing changed"
        )
    return [found[i] for i in wanted]


@dlt.source(name="brokerage", max_table_nesting=0)
def retirement(rows: list[dict[str, Any]]) -> Any:
    """The retired versions of `rows`, merged over the live ones on transaction_id."""
    return dlt.resource([raw_table("transactions", rows)], **TRANSACTIONS_HINTS)


def retire(
    warehouse: Warehouse, ids: Sequence[str], reason: str, superseded_by: str | None
) -> RunReport:
    """Retire `ids` (superseded by `superseded_by` if given); always leaves an audit row."""
    from ingest.runner import run_source

    rows = rows_to_retire(warehouse, ids, superseded_by)
    report = RunReport(
        pipeline=PIPELINE,
        source="operator",
        items_requested=[r["transaction_id"] for r in rows],
        items="transactions",
    )
    what = f"superseded by {superseded_by}" if superseded_by else "removed"
    now = datetime.now(UTC)
    for row in rows:
        row["retired_at"] = now
        row["retired_reason"] = f"{what} by brokerage-retire (run {report.run_id}): {reason}"
        at = row.get("executed_at")
        report.received(row["transaction_id"], 1, 0, at, at)
    return run_source(
        warehouse, report, retirement(rows), pipeline_name=PIPELINE, dataset=RAW_BROKERAGE
    )

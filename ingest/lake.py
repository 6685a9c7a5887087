"""Optional export of the raw bars to a Parquet lake, hive-partitioned by ticker and date.

For users who keep a lake beside the warehouse: `<out>/bars_1m/ticker=SPY/trade_date=2025-12-31/`
(trade_date = the exchange-local day of the bar) and `<out>/bars_1d/ticker=SPY/year=2025/` (a
daily partition would hold one row). A re-export overwrites what it writes: idempotent.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ingest.config import RAW_YFINANCE
from ingest.warehouse import connect

log = logging.getLogger(__name__)

# table -> (query, partition columns)
EXPORTS = {
    "bars_1d": (
        f"select * exclude (_dlt_load_id), year(trade_date) as year from {RAW_YFINANCE}.bars_1d",
        "ticker, year",
    ),
    "bars_1m": (
        "select * exclude (_dlt_load_id), "
        "cast(timezone('America/New_York', ts) as date) as trade_date "
        f"from {RAW_YFINANCE}.bars_1m",
        "ticker, trade_date",
    ),
}


def export_bars(
    warehouse_path: Path, out_dir: Path, tables: tuple[str, ...] = tuple(EXPORTS)
) -> dict[str, int]:
    """Write each table as Parquet partitioned by ticker and date; return the row counts of
    the tables the warehouse has (a missing one is skipped with a warning)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    with connect(warehouse_path, read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        existing = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = $schema",
                {"schema": RAW_YFINANCE},
            ).fetchall()
        }
        for table in tables:
            if table not in existing:  # e.g. a warehouse loaded with --intervals 1d only
                log.warning("%s.%s is not in the warehouse: nothing to export", RAW_YFINANCE, table)
                continue
            query, partitions = EXPORTS[table]
            target = out_dir / table
            count = con.execute(f"select count(*) from ({query})").fetchone()
            assert count is not None  # an aggregate always returns a row
            rows = count[0]
            # The folder is the user's text: a parameter, never pasted into the SQL (a folder
            # named o'brien was a syntax error, and a crafted one ran its own statements).
            con.execute(
                f"copy ({query}) to $target "
                f"(format parquet, partition_by ({partitions}), overwrite_or_ignore true)",
                {"target": str(target)},
            )
            written[table] = rows
            log.info("exported %d rows of %s to %s", rows, table, target)
    return written

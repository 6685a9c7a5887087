"""The optional Parquet lake: every raw bar, partitioned by ticker and date, idempotent."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.lake import export_bars
from tests.pipeline import ingest, query, warehouse_env


def lake_rows(folder: Path) -> list[tuple]:
    return duckdb.execute(
        f"select ticker, count(*), count(distinct trade_date) from read_parquet("
        f"'{folder}/bars_1m/*/*/*.parquet', hive_partitioning = true) group by 1 order by 1"
    ).fetchall()


def test_export_partitions_every_bar_and_is_idempotent(tmp_path) -> None:
    env = warehouse_env(tmp_path)
    ingest(env, "sample", "--as-of", "2025-12-31", "--tickers", "SPY,KO", "--daily-years", "1",
           "--minute-sessions", "3")  # fmt: skip
    lake = tmp_path / "lake"
    written = export_bars(Path(env["WAREHOUSE_PATH"]), lake)
    raw = query(env, "select count(*) from raw_yfinance.bars_1m")[0][0]
    assert written["bars_1m"] == raw
    assert written["bars_1d"] == query(env, "select count(*) from raw_yfinance.bars_1d")[0][0]
    assert (lake / "bars_1m" / "ticker=SPY" / "trade_date=2025-12-31").is_dir()
    assert (lake / "bars_1d" / "ticker=KO" / "year=2025").is_dir()
    first = lake_rows(lake)
    assert sum(n for _, n, _ in first) == raw
    assert [(t, d) for t, _, d in first] == [("KO", 3), ("SPY", 3)]
    ingest(env, "export-parquet", "--to", str(lake))  # again, through the command line
    assert lake_rows(lake) == first

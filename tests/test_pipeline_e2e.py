"""The whole path on a small sample: ingest twice (idempotent), then dbt build, then check
the raw contract, the audit trail, the quarantine and the mart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest.warehouse import STORAGE_VERSION_NUMBER, file_storage_version
from tests.calendars import calendar_model, library_sessions, seed_calendars
from tests.pipeline import dbt, ingest, warehouse_env

TICKERS = "SPY,KO,XOM,GOOGL,AAPL"
AS_OF = "2025-12-31"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> dict[str, object]:
    """Run ingest twice and dbt build once; return the warehouse path and row counts."""
    env = warehouse_env(tmp_path_factory.mktemp("e2e"))
    args = ["sample", "--as-of", AS_OF, "--tickers", TICKERS, "--daily-years", "1",
            "--minute-sessions", "5"]  # fmt: skip
    ingest(env, *args)
    path = Path(env["WAREHOUSE_PATH"])
    counts_after_first = table_counts(path)
    ingest(env, *args)
    build = dbt(env, "build")
    return {"path": path, "first": counts_after_first, "dbt": build}


def table_counts(path: Path) -> dict[str, int]:
    tables = ["raw_yfinance.bars_1m", "raw_yfinance.bars_1d", "raw_yfinance.tickers",
              "raw_brokerage.accounts", "raw_brokerage.transactions"]  # fmt: skip
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def sql(warehouse: dict[str, object], query: str) -> list[tuple]:
    with duckdb.connect(str(warehouse["path"]), read_only=True) as con:
        return con.execute(query).fetchall()


def test_second_ingest_leaves_every_count_unchanged(warehouse) -> None:
    first = warehouse["first"]
    assert table_counts(warehouse["path"]) == first
    assert first["raw_yfinance.tickers"] == 5 + 1  # and the EUR account's pair, EURUSD=X
    assert first["raw_brokerage.accounts"] == 3
    # 5 tickers x 5 sessions x 390 minutes (2025-12-24 closes early: 210), a few minutes
    # missing on thin tape, one bar stamped at the close, one duplicate removed.
    assert 5 * (4 * 390 + 210) * 0.99 < first["raw_yfinance.bars_1m"] <= 5 * (4 * 390 + 210) + 1


def test_every_run_is_audited(warehouse) -> None:
    rows = sql(
        warehouse, "select pipeline, status, rows_received from raw_ingest.runs order by started_at"
    )
    # the first broker load is partial for the sample's planted unparsed cell; the second
    # finds the files unchanged
    assert [(p, s) for p, s, _ in rows] == [
        ("sample_market", "success"), ("sample_brokerage", "partial"),
        ("sample_market", "success"), ("sample_brokerage", "success"),
    ]  # fmt: skip
    assert rows[2][2] < rows[0][2], "the second market run should start from the watermarks"


def column_types(warehouse: dict[str, object], schema: str, table: str) -> dict[str, str]:
    query = (
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{table}'"
    )
    return dict(sql(warehouse, query))


def test_raw_tables_follow_the_contract(warehouse) -> None:
    types = column_types(warehouse, "raw_yfinance", "bars_1m")
    assert types["ts"] == "TIMESTAMP WITH TIME ZONE"
    assert types["volume"] == "BIGINT" and types["close"] == "DOUBLE"
    assert "_dlt_load_id" in types
    money = column_types(warehouse, "raw_brokerage", "transactions")
    assert money["quantity"] == "DECIMAL(18,6)" and money["fees"] == "DECIMAL(18,4)"
    assert sql(
        warehouse, "select count(*) - count(distinct (ticker, ts)) from raw_yfinance.bars_1m"
    ) == [(0,)]


def test_bad_daily_bars_are_quarantined_with_a_reason(warehouse) -> None:
    rejected = dict(
        sql(
            warehouse,
            "select ticker, reject_reason from intermediate.int_bars_1d_validated "
            "where reject_reason is not null",
        )
    )
    assert rejected == {"KO": "high_below_low", "XOM": "non_positive_price"}
    # the currency pair's bars (EURUSD=X) are FX rates, not price features
    equity_bars = "select count(*) from raw_yfinance.bars_1d where ticker not like '%=X'"
    raw = sql(warehouse, equity_bars)[0][0]
    mart = sql(warehouse, "select count(*) from marts.fct_price_features_daily")[0][0]
    assert mart == raw - 2


def test_mart_features_match_a_direct_computation(warehouse) -> None:
    (n, worst_sma, worst_return), = sql(warehouse, """
        with direct as (
            select ticker, trade_date,
                   avg(adj_close) over w as sma,
                   count(*) over w as n,
                   adj_close / lag(adj_close) over (order by trade_date) - 1 as r
            from raw_yfinance.bars_1d
            where ticker = 'SPY'
            window w as (partition by ticker order by trade_date rows 19 preceding)
        )
        select count(*),
               max(abs(f.sma_20 - d.sma)) filter (where d.n = 20),
               max(abs(f.return_1d - d.r))
        from marts.fct_price_features_daily f join direct d using (ticker, trade_date)
    """)  # fmt: skip
    assert n > 200
    assert worst_sma < 1e-9 and worst_return < 1e-12
    assert sql(warehouse, "select count(*) from marts.fct_price_features_daily "
                          "where ticker = 'SPY' and sma_20 is null") == [(19,)]  # fmt: skip


def test_dbt_build_ran_tests_and_the_unit_test(warehouse) -> None:
    out = warehouse["dbt"]
    assert (
        "unit_test fct_price_features_daily::test_fct_price_features_daily_returns_and_sma_20"
        in out
    )
    assert "ERROR=0" in out and "PASS=" in out


def test_the_file_keeps_the_storage_format_the_reports_can_read(warehouse) -> None:
    """Created as v1.4.0 storage by ingest and still so after dlt and dbt wrote to it."""
    assert file_storage_version(warehouse["path"]) == STORAGE_VERSION_NUMBER


def test_the_session_calendar_is_the_librarys(warehouse) -> None:
    """dim_trading_sessions equals exchange_calendars' NYSE schedule, early closes included
    (the sample's tickers are all US listings: XNYS is the one calendar in use)."""
    expected = library_sessions("XNYS")
    assert sql(warehouse, "select distinct exchange from marts.dim_trading_sessions") == [("XNYS",)]
    ours = sql(
        warehouse,
        "select session_date, open_at, close_at, is_early_close from marts.dim_trading_sessions "
        "where exchange = 'XNYS' order by session_date",
    )
    assert ours == expected
    assert ours[0][0].isoformat() == "2000-01-03"
    assert sum(1 for row in ours if row[3]) > 40


@pytest.mark.parametrize("exchange", sorted(seed_calendars()))
def test_every_calendar_of_the_exchanges_seed_is_built(exchange: str) -> None:
    """The model can build each calendar the seed names (a ticker on that exchange gets it),
    over its whole range, from 2000 (Tel Aviv: 2026-01-05, all the library can build)."""
    import exchange_calendars as xcals

    assert exchange in xcals.get_calendar_names()
    expected = library_sessions(exchange)
    frame = calendar_model().sessions(exchange, expected[-1][0].isoformat())
    ours = [
        (
            row.session_date,
            row.open_at.to_pydatetime(),
            row.close_at.to_pydatetime(),
            row.is_early_close,
        )
        for row in frame.itertuples()
    ]
    assert ours == expected
    assert ours[0][0] <= (date(2026, 1, 5) if exchange == "XTAE" else date(2000, 1, 5))
    assert len(ours) > (250 if exchange == "XTAE" else 6000)

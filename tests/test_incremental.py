"""Minute-level models are incremental: after a new day is appended, the incremental build
equals a full refresh, row for row."""

from __future__ import annotations

import math
import re
from datetime import date

import duckdb
import pytest

from tests.calendars import library_sessions
from tests.pipeline import DBT, dbt, ingest, query, run, warehouse_env

MINUTE_MARTS = [
    "marts.fct_bars_1m",
    "marts.fct_bars_5m",
    "marts.fct_bars_15m",
    "marts.fct_bars_60m",
    "marts.fct_intraday_features",
    "marts.fct_quarantined_bars",
]
SAMPLE = ["sample", "--as-of", "2025-12-31", "--tickers", "SPY,JPM,MSFT", "--daily-years", "1",
          "--minute-sessions", "6"]  # fmt: skip

# The minute marts and everything they need; the daily features are not part of this test.
# Cautious: a test runs only when every model it reads is selected.
MINUTE_SELECTION = [
    "--select",
    *(f"+{table.split('.')[1]}" for table in MINUTE_MARTS),
    "--indirect-selection",
    "cautious",
]

pytestmark = pytest.mark.e2e


def same_rows(left: list[tuple], right: list[tuple]) -> bool:
    """Equal row for row; doubles may differ in the last bits, since DuckDB evaluates window
    aggregates (e.g. stddev) in parallel and the order of a floating-point sum can vary."""

    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
        return a == b

    return len(left) == len(right) and all(
        len(x) == len(y) and all(same(a, b) for a, b in zip(x, y, strict=True))
        for x, y in zip(left, right, strict=True)
    )


def snapshot(env: dict[str, str]) -> dict[str, list[tuple]]:
    return {table: query(env, f"select * from {table} order by all") for table in MINUTE_MARTS}


def test_incremental_day_equals_full_refresh(tmp_path) -> None:
    env = warehouse_env(tmp_path)
    ingest(env, *SAMPLE, "--until", "2025-12-30")
    latest_trade_day = "select max(cast(timezone('America/New_York', executed_at) as date)) "
    assert (
        str(query(env, latest_trade_day + "from raw_brokerage.transactions")[0][0]) <= "2025-12-30"
    )
    dbt(env, "build", *MINUTE_SELECTION)
    before = query(env, "select count(*), max(session_date) from marts.fct_bars_1m")

    ingest(env, *SAMPLE)  # the next day arrives
    output = dbt(env, "build", *MINUTE_SELECTION)
    assert "incremental model" in output
    # What each minute model rewrote, as the data tests' scope reads it: everything on the first
    # build (null), then the 3 sessions up to the newest one built before (12-30).
    rewrites = query(
        env,
        "select model, list(first_session_date order by recorded_at) "
        "from dbt_audit.minute_rewrites group by model",
    )
    rewriting = ["int_bars_1m_validated", "int_bars_1m_aligned", "int_bars_5m_rolled_up",
                 "fct_bars_15m", "fct_bars_60m"]  # fmt: skip
    assert dict(rewrites) == {model: [None, date(2025, 12, 26)] for model in rewriting}
    after = query(env, "select count(*), max(session_date) from marts.fct_bars_1m")
    assert str(after[0][1]) == "2025-12-31" and str(before[0][1]) == "2025-12-30"
    incremental = snapshot(env)

    dbt(env, "build", "--full-refresh", *MINUTE_SELECTION)
    full = snapshot(env)
    for table in MINUTE_MARTS:
        assert same_rows(incremental[table], full[table]), (
            f"{table} differs after the incremental run"
        )
    assert len(full["marts.fct_bars_1m"]) > after[0][0] * 0.99

    # A daily build's data tests read what the run rewrites (here from 12-29, the 3 sessions up
    # to 12-31); `dbt test` reads every row. A raw bar of SPY loaded twice, once in an old
    # session (12-23, the first minute session) and once in the newest (12-31): the daily build
    # finds only the newest.
    with duckdb.connect(env["WAREHOUSE_PATH"]) as con:
        for day in ("2025-12-23", "2025-12-31"):
            [(inserted,)] = con.execute(
                "insert into raw_yfinance.bars_1m select * from raw_yfinance.bars_1m "
                f"where ticker = 'SPY' and ts = timestamptz '{day} 15:00:00+00'"
            ).fetchall()
            assert inserted == 1, day
    uniqueness = "unique_key_columns_stg_yfinance__bars_1m_ticker__bar_at"
    daily = run([str(DBT), "build", *MINUTE_SELECTION, "--target", "ci"], env, codes=(1,))
    found = rf"Failure in test {uniqueness} [^\n]*\n[^\n]*Got {{}},"  # a line of dbt's log
    assert re.search(found.format("1 result"), daily), daily[-3000:]
    everything = run([str(DBT), "test", "--select", "stg_yfinance__bars_1m", "--target", "ci"],
                     env, codes=(1,))  # fmt: skip
    assert re.search(found.format("2 results"), everything), everything[-3000:]


# A listing on an exchange ahead of UTC (Tokyo: sessions 00:00-06:30 UTC), which the sample
# does not have: its ticker row and minute bars are written into raw as a load would.
TOKYO = "9999.T"
WITHOUT_DATA_TESTS = ["--exclude-resource-type", "test"]
TOKYO_DAYS = (date(2025, 12, 22), date(2025, 12, 30))  # 7 sessions of 390 minutes


def tokyo_sessions() -> list[tuple[date, object, object]]:
    """(day, open_at, close_at) of the Tokyo sessions in TOKYO_DAYS, as the calendar says."""
    first, last = TOKYO_DAYS
    return [
        (day, open_at, close_at)
        for day, open_at, close_at, _ in library_sessions("XTKS")
        if first <= day <= last
    ]


def _load_id(con: duckdb.DuckDBPyConnection) -> str:
    """A dlt load id later than every load in raw (the seconds since the epoch, as dlt's)."""
    [(latest,)] = con.execute(
        "select max(cast(_dlt_load_id as double)) from raw_yfinance.bars_1m"
    ).fetchall()
    return f"{latest + 60:.4f}"


def load_tokyo_minutes(env: dict[str, str], first_day: date, last_day: date) -> None:
    """Every minute of the Tokyo sessions from first_day to last_day, as one load."""
    with duckdb.connect(env["WAREHOUSE_PATH"]) as con:
        load_id = _load_id(con)
        con.execute(
            "insert into raw_yfinance.tickers (ticker, name, exchange, exchange_timezone, currency,"
            " quote_type, _dlt_load_id) select ?, 'Tokyo listing', 'JPX', 'Asia/Tokyo', 'JPY',"
            " 'EQUITY', ? where ? not in (select ticker from raw_yfinance.tickers)",
            [TOKYO, load_id, TOKYO],
        )
        for day, open_at, close_at in tokyo_sessions():
            if first_day <= day <= last_day:
                minutes = int((close_at - open_at).total_seconds() // 60)
                con.execute(
                    """
                    insert into raw_yfinance.bars_1m
                        (ticker, ts, open, high, low, close, volume, adjusted_as_of, _dlt_load_id)
                    select
                        ?, ?::timestamptz + to_minutes(k),
                        1000.0 + k % 37, 1001.0 + k % 37, 999.0 + k % 37, 1000.0 + k % 37,
                        100 + k, ?, ?
                    from range(0, ?) as minutes (k)
                    """,
                    [TOKYO, open_at, last_day, load_id, minutes],
                )


def restate(env: dict[str, str], where: str, assignments: str) -> int:
    """A later load restating the minute bars `where` (as dlt's merge replaces them); returns
    how many it restated."""
    with duckdb.connect(env["WAREHOUSE_PATH"]) as con:
        load_id = _load_id(con)
        [(count,)] = con.execute(
            f"update raw_yfinance.bars_1m set {assignments}, _dlt_load_id = ? where {where}",
            [load_id],
        ).fetchall()
    return count


@pytest.fixture(scope="module")
def incremental_and_full(tmp_path_factory) -> dict[str, dict[str, list[tuple]]]:
    """The minute marts after a first load, a second load run incrementally, and a full
    refresh of the same data. Without data tests: complete_minute_grid still compares every
    session with the market exchange's (New York's) hours, which a Tokyo session does not fit."""
    env = warehouse_env(tmp_path_factory.mktemp("restated"))
    ingest(env, *SAMPLE, "--until", "2025-12-30")
    load_tokyo_minutes(env, date(2025, 12, 22), date(2025, 12, 29))
    # A bar of MSFT inside the lookback arrives broken (high below low) ...
    broken = restate(
        env,
        "ticker = 'MSFT' and ts = timestamptz '2025-12-29 15:00:00+00'",
        "high = low - 1",
    )
    assert broken == 1
    dbt(env, "build", *MINUTE_SELECTION, *WITHOUT_DATA_TESTS)

    ingest(env, *SAMPLE)  # ... and the next load restates it clean (the overlap re-fetches 12-29)
    load_tokyo_minutes(env, date(2025, 12, 30), date(2025, 12, 30))
    # Every bar of JPM's session of 2025-12-29, clean so far, is restated with a negative volume.
    rejected = restate(
        env,
        "ticker = 'JPM' and cast(timezone('America/New_York', ts) as date) = date '2025-12-29'",
        "volume = -1",
    )
    assert rejected > 300
    output = dbt(env, "build", *MINUTE_SELECTION, *WITHOUT_DATA_TESTS)
    assert "incremental model" in output
    incremental = snapshot(env)
    dbt(env, "build", "--full-refresh", *MINUTE_SELECTION, *WITHOUT_DATA_TESTS)
    return {"incremental": incremental, "full": snapshot(env)}


def rows_of(snapshots: dict[str, list[tuple]], table: str, tickers: set[str]) -> list[tuple]:
    """The table's rows of `tickers` (ticker is the first column, bar_interval before it in
    fct_quarantined_bars)."""
    position = 1 if table == "marts.fct_quarantined_bars" else 0
    return [row for row in snapshots[table] if row[position] in tickers]


def test_incremental_run_keeps_whole_sessions_of_an_exchange_ahead_of_utc(
    incremental_and_full,
) -> None:
    """Tokyo's session of the oldest rewritten day opens at 00:00 UTC, before New York's
    midnight: an incremental run must rewrite it whole, morning included."""
    full = incremental_and_full["full"]
    tokyo_minutes = rows_of(full, "marts.fct_bars_1m", {TOKYO})
    assert len(tokyo_minutes) == 390 * 7
    for table in MINUTE_MARTS:
        assert same_rows(
            rows_of(incremental_and_full["incremental"], table, {TOKYO}),
            rows_of(full, table, {TOKYO}),
        ), f"{TOKYO}'s rows of {table} differ after the incremental run"


def test_incremental_run_follows_restated_bars(incremental_and_full) -> None:
    """A bar rejected in the first load and restated clean in the second leaves quarantine and
    enters the minute bars; a session restated entirely rejected leaves the minute marts."""
    full = incremental_and_full["full"]
    restated_bar = [row for row in rows_of(full, "marts.fct_bars_1m", {"MSFT"})
                    if str(row[2]).startswith("2025-12-29 15:00:00")]  # fmt: skip
    assert len(restated_bar) == 1 and restated_bar[0][-1] is False  # traded, not filled
    assert not [
        row for row in rows_of(full, "marts.fct_bars_1m", {"JPM"}) if str(row[1]) == "2025-12-29"
    ]
    for ticker in ("MSFT", "JPM"):
        for table in MINUTE_MARTS:
            assert same_rows(
                rows_of(incremental_and_full["incremental"], table, {ticker}),
                rows_of(full, table, {ticker}),
            ), f"{ticker}'s rows of {table} differ after the incremental run"

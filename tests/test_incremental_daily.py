"""The daily features are incremental: after new days are appended, the incremental build
equals a full refresh row for row, also when a new day brings a split, which changes the
adjusted price of every earlier bar of its ticker (docs/features.md, "Daily runs")."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from tests.calendars import calendar_model
from tests.pipeline import dbt, ingest, query, warehouse_env

DAILY_TABLES = ["intermediate.int_bars_1d_smoothed", "marts.fct_price_features_daily"]
# AAPL splits 2-for-1 on 2026-11-10 in the sample (as of 2026-11-20) and PG pays a dividend
# on 2026-11-18; SPY (the benchmark) and MSFT have neither in these days. Three years of
# daily bars: more sessions than the lookback (300), so the new rows read a lookback only.
SAMPLE = ["sample", "--as-of", "2026-11-20", "--tickers", "SPY,AAPL,MSFT,PG", "--daily-years", "3",
          "--minute-sessions", "12"]  # fmt: skip
DAILY_SELECTION = ["--select", "+fct_price_features_daily"]

pytestmark = pytest.mark.e2e


def snapshot(env: dict[str, str]) -> dict[str, list[tuple]]:
    return {
        table: query(env, f"select * from {table} order by ticker, trade_date")
        for table in DAILY_TABLES
    }


def rows_of(rows: list[tuple], ticker: str, before: date | None = None) -> list[tuple]:
    return [row for row in rows if row[0] == ticker and (before is None or row[1] < before)]


def first_difference(left: list[tuple], right: list[tuple]) -> str | None:
    """None when equal row for row, doubles within 1e-12 relative or absolute (bb_pct_b_20
    near 0 is a difference of prices over the band's width whose last bits vary between two
    full refreshes of the same data, seen: 2e-15 on -0.0018); else the first difference."""

    def near(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return abs(a - b) <= 1e-12 * max(1.0, abs(b))
        return a == b

    if len(left) != len(right):
        return f"{len(left)} rows against {len(right)}"
    for x, y in zip(left, right, strict=True):
        for position, (a, b) in enumerate(zip(x, y, strict=True)):
            if not near(a, b):
                return f"row {x[:2]}, column {position}: {a!r} against {b!r}"
    return None


@pytest.fixture(scope="module")
def days(tmp_path_factory) -> dict[str, dict[str, list[tuple]]]:
    """The daily tables after a load up to 2026-11-09; after the day of AAPL's split, run
    incrementally and then as a full refresh; after the rest of the days (PG's dividend), run
    incrementally and then as a full refresh."""
    env = warehouse_env(tmp_path_factory.mktemp("daily"))
    ingest(env, *SAMPLE, "--until", "2026-11-09")
    dbt(env, "run", *DAILY_SELECTION)
    snapshots = {"first": snapshot(env)}
    for step, until in (("split_day", ["--until", "2026-11-10"]), ("last_day", [])):
        ingest(env, *SAMPLE, *until)
        output = dbt(env, "run", *DAILY_SELECTION)
        assert "incremental model" in output
        snapshots[step] = snapshot(env)
        dbt(env, "run", "--full-refresh", *DAILY_SELECTION)
        snapshots[f"{step}_full"] = snapshot(env)
    snapshots["env"] = env
    return snapshots


def test_the_sample_brings_the_events_this_test_is_about(days) -> None:
    features = "marts.fct_price_features_daily"
    full = days["split_day_full"][features]
    aapl_before, aapl_after = (
        next(row for row in rows_of(full, "AAPL") if str(row[1]) == day)
        for day in ("2026-11-09", "2026-11-10")
    )
    assert aapl_after[2] / aapl_before[2] < 0.6  # the close as traded halves: a split
    assert len(rows_of(days["first"][features], "SPY")) > 700  # > the lookback of 300
    # The split day rewrote AAPL's history: its adjusted close of a year ago halved ...
    year_ago = date(2025, 11, 10)
    old_aapl = rows_of(days["first"][features], "AAPL", year_ago)[-1]
    new_aapl = rows_of(days["split_day"][features], "AAPL", year_ago)[-1]
    assert new_aapl[3] == pytest.approx(old_aapl[3] / 2, rel=1e-6)
    # ... and kept MSFT's: its rows before the new day are the first run's, unchanged.
    assert rows_of(days["split_day"][features], "MSFT", date(2026, 11, 10)) == rows_of(
        days["first"][features], "MSFT"
    )


@pytest.mark.parametrize("step", ["split_day", "last_day"])
@pytest.mark.parametrize("table", DAILY_TABLES)
def test_incremental_days_equal_a_full_refresh(days, table, step) -> None:
    for ticker in ("SPY", "AAPL", "MSFT", "PG"):
        difference = first_difference(
            rows_of(days[step][table], ticker), rows_of(days[f"{step}_full"][table], ticker)
        )
        assert difference is None, f"{table} after the incremental run of {step}: {difference}"


def test_calendar_adds_only_new_exchanges_and_years() -> None:
    to_add = calendar_model().sessions_to_add
    generated_through = {"XNYS": date(2027, 12, 31), "XLON": date(2026, 12, 31)}
    assert to_add(["XNYS"], "2027-12-31", generated_through) == {}
    assert to_add(["XNYS", "XLON", "XTKS"], "2027-12-31", generated_through) == {
        "XLON": date(2026, 12, 31),  # a new year: its sessions after 2026-12-31
        "XTKS": None,  # a new exchange: all its sessions
    }


def test_calendar_run_appends_what_is_missing_and_nothing_else(days) -> None:
    """The calendar is reference data: a run after a full one adds nothing, and one after a
    year's sessions went missing (a new year) adds exactly them."""
    env = days["env"]
    calendar = "select * from intermediate.int_trading_sessions_generated order by all"
    dbt(env, "build", "--select", "+int_trading_sessions_generated",
        "--exclude-resource-type", "test", "unit_test")  # fmt: skip
    generated = query(env, calendar)
    assert len(generated) > 6000
    dbt(env, "run", "--select", "int_trading_sessions_generated")
    assert query(env, calendar) == generated
    last_year = max(row[1] for row in generated).year
    with duckdb.connect(env["WAREHOUSE_PATH"]) as con:
        con.execute(
            "delete from intermediate.int_trading_sessions_generated where year(session_date) = ?",
            [last_year],
        )
    dbt(env, "run", "--select", "int_trading_sessions_generated")
    assert query(env, calendar) == generated

"""Minute-level models are incremental: after a new day is appended, the incremental build
equals a full refresh, row for row."""

from __future__ import annotations

import math

import pytest

from tests.pipeline import dbt, ingest, query, warehouse_env

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

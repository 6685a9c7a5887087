"""A warehouse holding only Yahoo's daily bars builds green (issue 13).

The README's `make ingest build` for someone without broker files: real Yahoo frames
(tests/data/yfinance_replay: Tokyo, London, Johannesburg, Stockholm, Paris, Madrid and US
listings) loaded with `--intervals 1d`, so neither raw_brokerage nor raw_yfinance.bars_1m
exists. dbt's on-run-start hook (macros/create_missing_source_tables.sql) creates them empty
from the sources' declared types; the build must then pass with empty portfolio and minute
marts. And dlt must load into such pre-created tables exactly as into its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from tests.calendars import library_sessions
from tests.pipeline import REPO, dbt, ingest, query, warehouse_env

REPLAY = REPO / "tests" / "data" / "yfinance_replay"
SMALL_SAMPLE = (
    "sample",
    "--as-of",
    "2026-11-20",
    "--tickers",
    "SPY,AAPL,MSFT",
    "--daily-years",
    "1",
    "--minute-sessions",
    "5",
)
RAW_TABLES = (
    "raw_yfinance.bars_1d",
    "raw_yfinance.bars_1m",
    "raw_yfinance.tickers",
    "raw_brokerage.accounts",
    "raw_brokerage.transactions",
)
PORTFOLIO_MARTS = (
    "fct_transactions",
    "fct_quarantined_transactions",
    "fct_lots_realized",
    "fct_positions_daily",
    "fct_portfolio_daily",
    "fct_transaction_anomalies",
)
MINUTE_MARTS = (
    "fct_bars_1m",
    "fct_bars_5m",
    "fct_bars_15m",
    "fct_bars_60m",
    "fct_intraday_features",
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def yahoo_only(tmp_path_factory) -> tuple[dict[str, str], str]:
    """Real Yahoo daily bars only, then the whole dbt build; returns the env and dbt's output."""
    env = warehouse_env(tmp_path_factory.mktemp("yahoo_only"))
    ingest(env, "yfinance", "--replay", str(REPLAY), "--intervals", "1d")
    tables = {
        row[0]
        for row in query(
            env, "select table_schema || '.' || table_name from information_schema.tables"
        )
    }
    assert "raw_yfinance.bars_1d" in tables
    assert (
        not {"raw_yfinance.bars_1m", "raw_brokerage.accounts", "raw_brokerage.transactions"}
        & tables
    )
    return env, dbt(env, "build")


def test_builds_without_errors(yahoo_only):
    _, output = yahoo_only
    summary = re.findall(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", output)
    assert summary, output[-2000:]
    passed, _, errors, skipped = map(int, summary[-1])
    assert (errors, skipped) == (0, 0), output[-4000:]
    assert passed > 100
    for table in ("raw_brokerage.accounts", "raw_brokerage.transactions", "raw_yfinance.bars_1m"):
        assert f"creating the missing source table {table} empty" in output


def test_portfolio_and_minute_marts_are_empty(yahoo_only):
    env, _ = yahoo_only
    for mart in PORTFOLIO_MARTS + MINUTE_MARTS:
        assert query(env, f"select count(*) from marts.{mart}") == [(0,)], mart
    tickers, sessions = query(
        env, "select count(distinct ticker), count(*) from marts.fct_prices_daily"
    )[0]
    assert tickers == len(list(REPLAY.glob("*.info.json")))
    assert sessions > 1000


def _raw_shape(path: Path) -> dict[str, tuple[int, frozenset[tuple[str, str]]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: (
                con.execute(f"select count(*) from {table}").fetchall()[0][0],
                frozenset(
                    (name, kind) for name, kind, *_ in con.execute(f"describe {table}").fetchall()
                ),
            )
            for table in RAW_TABLES
        }


def test_dlt_loads_into_tables_dbt_created(tmp_path):
    """dbt first (every raw table created empty by the hook), then the sample load: the same
    rows and the same column names and types as a load into a warehouse dlt made itself."""
    precreated = warehouse_env(tmp_path / "precreated")
    dbt(precreated, "run", "--select", "stg_ingest__runs")
    assert query(precreated, "select count(*) from raw_brokerage.transactions") == [(0,)]
    ingest(precreated, *SMALL_SAMPLE)

    fresh = warehouse_env(tmp_path / "fresh")
    ingest(fresh, *SMALL_SAMPLE)

    assert _raw_shape(Path(precreated["WAREHOUSE_PATH"])) == _raw_shape(
        Path(fresh["WAREHOUSE_PATH"])
    )
    # nothing failed; the broker load is partial for the sample's planted unparsed cell alone
    runs = query(
        precreated,
        "select pipeline, status, tickers_failed, unparsed_cells from raw_ingest.runs "
        "order by pipeline",
    )
    assert [(p, s, f) for p, s, f, _ in runs] == [
        ("sample_brokerage", "partial", "[]"),
        ("sample_market", "success", "[]"),
    ]
    assert [(c["column"], c["cells"]) for c in json.loads(runs[0][3])] == [("executed_at", 1)]


def test_tickers_have_their_exchanges_calendar_and_major_currency(yahoo_only):
    """Tokyo, London, Johannesburg, Stockholm, Madrid and Paris listings get their own
    calendar (none falls back to NYSE's), equal to the library's; minor-unit quotes (GBp, ZAc)
    name their ISO currency and the factor 0.01."""
    env, _ = yahoo_only
    calendars = dict(query(env, "select ticker, calendar_exchange from marts.dim_tickers"))
    assert calendars == {
        "4063.T": "XTKS", "AET.L": "XLON", "KMR.L": "XLON", "SSW.JO": "XJSE", "MOB.ST": "XSTO",
        "IBE.MC": "XMAD", "TEP.PA": "XPAR", "CALM": "XNYS", "DODFX": "XNYS", "EWG": "XNYS",
        "SAND": "XNYS", "SSNLF": "XNYS",
    }  # fmt: skip
    generated = query(env, "select distinct exchange from marts.dim_trading_sessions order by 1")
    assert [row[0] for row in generated] == sorted(set(calendars.values()))
    for exchange in sorted(set(calendars.values())):
        ours = query(
            env,
            "select session_date, open_at, close_at, is_early_close "
            f"from marts.dim_trading_sessions where exchange = '{exchange}' order by session_date",
        )
        assert ours == library_sessions(exchange), exchange
    units = query(
        env,
        "select ticker, price_currency, currency, price_to_major_unit from marts.dim_tickers "
        "where price_to_major_unit != 1 order by ticker",
    )
    assert units == [("AET.L", "GBp", "GBP", 0.01), ("KMR.L", "GBp", "GBP", 0.01),
                     ("SSW.JO", "ZAc", "ZAR", 0.01)]  # fmt: skip

"""Exchange sessions from exchange_calendars, generated at build time.

A dbt Python model (run locally by dbt-duckdb) because the calendar's rules - holidays,
early closes, one-off closures - live in a maintained library, not in SQL. Every calendar
the loaded tickers trade on (their Yahoo exchange code's `calendar_exchange` in the exchanges
seed; several codes share one: every US venue follows XNYS), and the `market_exchange` var's
calendar always (XNYS: the portfolio and the pipeline's health are stated on its sessions; a
Python model reads the var through its YAML config's meta), 2000-01-03 through the end of
next year; `dim_trading_sessions` puts a contract on it.

Only the calendars in use, because building one costs 0.2-1 s whatever the range (its
holiday rules are set up first: the 11 non-US ones of the seed took 4.0 s from 2000 and
3.7 s from 2024): all 13 of the seed made this model 7.4 s instead of 1.1 s per build.
"""

from datetime import UTC, datetime

import exchange_calendars as xcals
import pandas as pd

FIRST_DAY = "2000-01-01"
# exchange_calendars (4.13) cannot build Tel Aviv over any range before the exchange moved
# from a Sunday-Thursday to a Monday-Friday week on 2026-01-05 (its Sunday early closes are
# "not sessions"), so that calendar starts there; earlier TASE bars are checked against none.
FIRST_DAYS = {"XTAE": "2026-01-05"}


def first_day(exchange: str) -> str:
    """First day of `exchange`'s generated sessions."""
    return FIRST_DAYS.get(exchange, FIRST_DAY)


def sessions(exchange: str, last_day: str) -> pd.DataFrame:
    """One row per session of `exchange` from first_day(exchange) through `last_day`."""
    if exchange not in xcals.get_calendar_names():
        raise ValueError(f"{exchange!r} (exchanges seed) is not an exchange_calendars calendar")
    calendar = xcals.get_calendar(exchange, start=first_day(exchange), end=last_day)
    schedule = calendar.schedule
    return pd.DataFrame(
        {
            "exchange": exchange,
            "session_date": schedule.index.date,
            "open_at": schedule["open"].dt.tz_convert("UTC"),
            "close_at": schedule["close"].dt.tz_convert("UTC"),
            "is_early_close": schedule.index.isin(calendar.early_closes),
        }
    )


def calendars_in_use(
    exchanges: pd.DataFrame, tickers: pd.DataFrame, market_exchange: str
) -> list[str]:
    """`market_exchange` and the calendar of each Yahoo exchange code of the tickers (seed)."""
    traded = exchanges[exchanges["yahoo_exchange_code"].isin(tickers["yahoo_exchange_code"])]
    return sorted({market_exchange, *traded["calendar_exchange"].dropna()})


def model(dbt, session):
    dbt.config(materialized="table")
    exchanges = dbt.ref("exchanges").df()
    tickers = dbt.ref("stg_yfinance__tickers").df()
    last_day = f"{datetime.now(UTC).year + 1}-12-31"
    market_exchange = dbt.config.meta_get("market_exchange")
    calendars = calendars_in_use(exchanges, tickers, market_exchange)
    frames = [sessions(exchange, last_day) for exchange in calendars]
    return pd.concat(frames, ignore_index=True)

"""Exchange sessions from exchange_calendars, generated at build time.

A dbt Python model (run locally by dbt-duckdb) because the calendar's rules - holidays,
early closes, one-off closures - live in a maintained library, not in SQL. Every calendar
the loaded tickers trade on (their Yahoo exchange code's `calendar_exchange` in the exchanges
seed; several codes share one: every US venue follows XNYS), and the `market_exchange` var's
calendar always (XNYS: the portfolio and the pipeline's health are stated on its sessions; a
Python model reads the var through its YAML config's meta), 2000-01-03 through the end of
next year; `dim_trading_sessions` puts a contract on it.

Only the calendars in use, because building one costs about the same whatever the range
(its holiday rules are set up first): docs/benchmarks.md, "Figures that were code comments".
"""

from datetime import UTC, datetime

import pandas as pd

FIRST_DAY = "2000-01-01"
# exchange_calendars (4.13) cannot build Tel Aviv over any range before the exchange moved
# from a Sunday-Thursday to a Monday-Friday week on 2026-01-05 (its Sunday early closes are
# "not sessions"), so that calendar starts there; earlier TASE bars are checked against none.
FIRST_DAYS = {"XTAE": "2026-01-05"}


def first_day(exchange: str) -> str:
    """First day of `exchange`'s generated sessions."""
    return FIRST_DAYS.get(exchange, FIRST_DAY)


def sessions(exchange: str, last_day: str, after: object = None) -> pd.DataFrame:
    """One row per session of `exchange` from first_day(exchange) through `last_day`, only
    those after the day `after` when given."""
    import exchange_calendars as xcals  # 1-2 s to import: only when a calendar is generated

    if exchange not in xcals.get_calendar_names():
        raise ValueError(f"{exchange!r} (exchanges seed) is not an exchange_calendars calendar")
    calendar = xcals.get_calendar(exchange, start=first_day(exchange), end=last_day)
    schedule = calendar.schedule
    frame = pd.DataFrame(
        {
            "exchange": exchange,
            "session_date": schedule.index.date,
            "open_at": schedule["open"].dt.tz_convert("UTC"),
            "close_at": schedule["close"].dt.tz_convert("UTC"),
            "is_early_close": schedule.index.isin(calendar.early_closes),
        }
    )
    if after is not None:
        frame = frame[frame["session_date"] > after]
    return frame


def empty_sessions() -> pd.DataFrame:
    """No session, with the columns' types (an incremental run that adds nothing)."""
    return pd.DataFrame(
        {
            "exchange": pd.Series([], dtype="object"),
            "session_date": pd.Series([], dtype="datetime64[s]").dt.date,
            "open_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "close_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "is_early_close": pd.Series([], dtype="bool"),
        }
    )


def calendars_in_use(
    exchanges: pd.DataFrame, tickers: pd.DataFrame, market_exchange: str
) -> list[str]:
    """`market_exchange` and the calendar of each Yahoo exchange code of the tickers (seed)."""
    traded = exchanges[exchanges["yahoo_exchange_code"].isin(tickers["yahoo_exchange_code"])]
    return sorted({market_exchange, *traded["calendar_exchange"].dropna()})


def sessions_to_add(
    calendars: list[str], last_day: str, generated_through: dict[str, object]
) -> dict[str, object]:
    """The calendars to generate, each with the day after which its new sessions start (None:
    all of them): a calendar not generated yet, and one whose sessions end in an earlier year
    than `last_day` (a new year has begun). The others are left as they are."""
    last_year = int(last_day[:4])
    return {
        exchange: generated_through.get(exchange)
        for exchange in calendars
        if exchange not in generated_through or generated_through[exchange].year < last_year
    }


def model(dbt, session):
    # Reference data: an incremental run appends only calendars not generated yet (a ticker on
    # a new exchange) and the sessions of a new year; otherwise it adds nothing and builds no
    # calendar (3-4 s of a build). `--full-refresh` regenerates all, e.g. after upgrading
    # exchange_calendars (a holiday rule changed).
    dbt.config(materialized="incremental", incremental_strategy="append")
    exchanges = dbt.ref("exchanges").df()
    tickers = dbt.ref("stg_yfinance__tickers").df()
    last_day = f"{datetime.now(UTC).year + 1}-12-31"
    market_exchange = dbt.config.meta_get("market_exchange")
    calendars = calendars_in_use(exchanges, tickers, market_exchange)
    generated_through = {}
    if dbt.is_incremental:
        generated_through = dict(
            session.sql(
                f"select exchange, max(session_date) from {dbt.this} group by exchange"
            ).fetchall()
        )
    frames = [
        sessions(exchange, last_day, after)
        for exchange, after in sessions_to_add(calendars, last_day, generated_through).items()
    ]
    if not frames:
        return empty_sessions()
    return pd.concat(frames, ignore_index=True)

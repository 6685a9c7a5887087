"""Exchange sessions from exchange_calendars, generated at build time.

A dbt Python model (run locally by dbt-duckdb) because the calendar's rules - holidays,
early closes, one-off closures - live in a maintained library, not in SQL. Covers
2000-01-03 through the end of next year; `dim_trading_sessions` puts a contract on it.
"""

from datetime import UTC, datetime

import exchange_calendars as xcals
import pandas as pd

EXCHANGES = ("XNYS",)  # NYSE's calendar also governs NASDAQ and NYSE Arca listings
FIRST_DAY = "2000-01-01"


def model(dbt, session):
    dbt.config(materialized="table")
    last_day = f"{datetime.now(UTC).year + 1}-12-31"
    frames = []
    for exchange in EXCHANGES:
        calendar = xcals.get_calendar(exchange, start=FIRST_DAY, end=last_day)
        schedule = calendar.schedule
        early = set(calendar.early_closes)
        frames.append(
            pd.DataFrame(
                {
                    "exchange": exchange,
                    "session_date": schedule.index.date,
                    "open_at": schedule["open"].dt.tz_convert("UTC"),
                    "close_at": schedule["close"].dt.tz_convert("UTC"),
                    "is_early_close": [day in early for day in schedule.index],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)

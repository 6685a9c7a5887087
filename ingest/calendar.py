"""Exchange sessions from exchange_calendars: the one source of trading hours in Python code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

NYSE = "XNYS"
CALENDAR_START = date(2000, 1, 1)


@lru_cache(maxsize=4)
def _calendar(exchange: str, end_year: int) -> xcals.ExchangeCalendar:
    return xcals.get_calendar(exchange, start=CALENDAR_START.isoformat(), end=f"{end_year}-12-31")


def calendar(exchange: str = NYSE) -> xcals.ExchangeCalendar:
    """The exchange calendar from 2000 through the end of next year."""
    return _calendar(exchange, datetime.now(UTC).year + 1)


def sessions(start: date, end: date, exchange: str = NYSE) -> pd.DataFrame:
    """Sessions with start <= session_date <= end: session_date, open_at, close_at (UTC)."""
    schedule = calendar(exchange).schedule.loc[pd.Timestamp(start) : pd.Timestamp(end)]
    return pd.DataFrame(
        {
            "session_date": schedule.index.date,
            "open_at": schedule["open"].to_numpy(),
            "close_at": schedule["close"].to_numpy(),
        }
    ).reset_index(drop=True)


def last_closed_session(now: datetime | None = None, exchange: str = NYSE) -> date:
    """The latest session whose close is at or before `now` (UTC)."""
    now = now or datetime.now(UTC)
    cal = calendar(exchange)
    schedule = cal.schedule.loc[: pd.Timestamp(now.date())]
    closed = schedule[schedule["close"] <= pd.Timestamp(now)]
    return closed.index[-1].date()

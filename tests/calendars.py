"""The session calendar as exchange_calendars states it, for comparing dim_trading_sessions
with the library: the dbt Python model's own functions (first day per exchange, which
calendars are in use) loaded from its file, so a test and the model cannot drift apart."""

from __future__ import annotations

import csv
import importlib.util
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "dbt_project/models/intermediate/calendar/int_trading_sessions_generated.py"
EXCHANGES_SEED = REPO / "dbt_project/seeds/exchanges.csv"


def calendar_model() -> ModuleType:
    spec = importlib.util.spec_from_file_location("int_trading_sessions_generated", MODEL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed_calendars() -> set[str]:
    """Every calendar_exchange of the exchanges seed."""
    with EXCHANGES_SEED.open(newline="") as seed:
        return {row["calendar_exchange"] for row in csv.DictReader(seed)}


def library_sessions(exchange: str) -> list[tuple[date, datetime, datetime, bool]]:
    """(session_date, open_at, close_at, is_early_close) as the library says, over the
    model's range for `exchange`, in dim_trading_sessions' shape."""
    import exchange_calendars as xcals

    last_day = f"{datetime.now(UTC).year + 1}-12-31"
    start = calendar_model().first_day(exchange)
    calendar = xcals.get_calendar(exchange, start=start, end=last_day)
    early = set(calendar.early_closes)
    return [
        (day.date(), row.open.to_pydatetime(), row.close.to_pydatetime(), day in early)
        for day, row in calendar.schedule.iterrows()
    ]

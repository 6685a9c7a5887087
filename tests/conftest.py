"""Shared fixtures: a pinned sample world whose minute window spans Thanksgiving 2025,
the early close the day after, and the Christmas Eve early close."""

from __future__ import annotations

from datetime import date

import pytest

from ingest.sample.market import SampleMarket

AS_OF = date(2025, 12, 31)
MINUTE_SESSIONS = 25  # 2025-11-25 .. 2025-12-31


@pytest.fixture(scope="session")
def market() -> SampleMarket:
    return SampleMarket(AS_OF, daily_years=2, minute_sessions=MINUTE_SESSIONS, seed=7)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch):
    """No test reads the developer's warehouse or dlt folder by accident."""
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("INGEST_PIPELINES_DIR", str(tmp_path / "dlt"))
    monkeypatch.delenv("WAREHOUSE_TARGET", raising=False)
    monkeypatch.delenv("MOTHERDUCK_TOKEN", raising=False)

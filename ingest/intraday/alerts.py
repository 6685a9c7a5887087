"""Reading the alerts the micro-batches made queryable (marts.fct_intraday_alerts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Alert:
    bar_at: str  # HH:MM UTC
    ticker: str
    alert_type: str
    reason: str


class SessionAlerts:
    """The session's alerts in the replay warehouse, read between batches (no writer then)."""

    def __init__(self, warehouse: Path, session: date) -> None:
        self.warehouse = warehouse
        self.session = session

    def _query(self, sql: str) -> list[tuple]:
        try:
            with duckdb.connect(str(self.warehouse), read_only=True) as con:
                return con.execute(sql, [self.session]).fetchall()
        except duckdb.CatalogException:  # a warehouse built before the alerts mart existed
            return []

    def latest(self, most: int = 5) -> list[Alert]:
        rows = self._query(
            "select strftime(bar_at at time zone 'UTC', '%H:%M'), ticker, alert_type, reason "
            "from marts.fct_intraday_alerts where session_date = ? "
            f"order by bar_at desc, ticker, alert_type limit {int(most)}"
        )
        return [Alert(*row) for row in rows]

    def by_type(self) -> dict[str, int]:
        rows = self._query(
            "select alert_type, count(*) from marts.fct_intraday_alerts "
            "where session_date = ? group by alert_type order by alert_type"
        )
        return dict(rows)

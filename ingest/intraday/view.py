"""What the user sees while a replay runs: a live panel (rich) on a terminal, one line per
dbt batch otherwise (CI, a pipe, a log file)."""

from __future__ import annotations

import sys
from typing import TextIO

from ingest.intraday.alerts import SessionAlerts
from ingest.intraday.replay import Progress, percentile


def _clock(progress: Progress) -> str:
    return progress.simulated_at.strftime("%H:%M UTC") if progress.simulated_at else "--:--"


class PlainView:
    """One line per finished batch, on stderr, with the alerts it made queryable."""

    def __init__(self, alerts: SessionAlerts | None = None, stream: TextIO = sys.stderr) -> None:
        self.alerts = alerts
        self.stream = stream
        self._alerts_seen = 0

    def __call__(self, progress: Progress) -> None:
        if progress.state != "landed":
            return
        stats, batch = progress.stats, progress.stats.batches[-1]
        alerts = ""
        if self.alerts is not None:
            total = sum(self.alerts.by_type().values())
            # signed: the session so far is recomputed each batch, and the count has fallen
            alerts = f"  alerts {total} ({total - self._alerts_seen:+d})"
            self._alerts_seen = total
        print(
            f"{_clock(progress)}  minutes {stats.minutes_landed}/{stats.minutes_total}  "
            f"batch of {batch.minutes}: landed in {batch.land_seconds:.1f} s, dbt "
            f"{batch.transform_seconds:.1f} s  backlog {batch.backlog}{alerts}",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        pass


class LiveView:
    """A panel redrawn in place: the simulated clock, minutes landed, the last batch's
    timings and latency, the backlog."""

    def __init__(self, alerts: SessionAlerts | None = None) -> None:
        from rich.console import Console
        from rich.live import Live

        self.alerts = alerts
        self._latest: list = []

        self._live = Live(console=Console(stderr=True), refresh_per_second=4, transient=False)
        self._live.start()

    def __call__(self, progress: Progress) -> None:
        from rich.table import Table

        stats = progress.stats
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("session", f"{stats.session}  ({stats.tickers} tickers)")
        table.add_row("simulated clock", f"{_clock(progress)}  ({progress.state})")
        table.add_row("minutes landed", f"{stats.minutes_landed} / {stats.minutes_total}")
        if stats.batches:
            batch = stats.batches[-1]
            table.add_row(
                "last batch",
                f"{batch.minutes} minutes: landed in {batch.land_seconds:.1f} s, "
                f"dbt {batch.transform_seconds:.1f} s",
            )
            table.add_row(
                "latency",
                f"p50 {percentile(stats.latencies, 50):.1f} s  "
                f"p95 {percentile(stats.latencies, 95):.1f} s  (landing -> queryable)",
            )
            table.add_row("backlog", f"{batch.backlog} minutes due, not landed")
        if self.alerts is not None and progress.state == "landed":
            self._latest = self.alerts.latest()  # read once per batch, while no one writes
        for i, alert in enumerate(self._latest):
            table.add_row(
                "latest alerts" if i == 0 else "",
                f"{alert.bar_at} {alert.ticker} {alert.alert_type}: {alert.reason}",
            )
        self._live.update(table)

    def close(self) -> None:
        self._live.stop()


def make_view(
    live: bool | None = None, alerts: SessionAlerts | None = None
) -> PlainView | LiveView:
    """The live panel on a terminal, plain lines elsewhere (or as `live` says)."""
    if live is None:
        live = sys.stderr.isatty()
    return LiveView(alerts) if live else PlainView(alerts)

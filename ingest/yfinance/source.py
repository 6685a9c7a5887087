"""The market-data dlt source: bars_1d, bars_1m and tickers, merged on natural keys.

Merge, not append: Yahoo restates bars (late prints, corrections), and a restated bar
must replace the old one. Each ticker has a watermark in dlt state (the last bar
loaded); the next run starts `overlap_days` before it so late corrections arrive.
A ticker that fails is recorded in the run report and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import dlt
import pandas as pd
import pyarrow as pa

from ingest.audit import RunReport
from ingest.progress import Progress
from ingest.retry import is_transport_error
from ingest.yfinance import normalize
from ingest.yfinance.fx import is_currency_pair
from ingest.yfinance.provider import MarketDataProvider

log = logging.getLogger(__name__)

INTERVALS = ("1d", "1m")


@dataclass(frozen=True)
class FetchPlan:
    """Which dates to ask for. `end` is inclusive (the last exchange-local day wanted)."""

    end: date
    start: date | None = None  # an explicit backfill: ignore watermarks
    daily_backfill_days: int = 5 * 365
    minute_backfill_days: int = 29
    overlap_days: int = 5  # > a long weekend: always at least one session again
    intervals: tuple[str, ...] = INTERVALS
    with_metadata: bool = True
    tickers_per_request: int = 25  # daily bars: one request serves this many tickers

    def start_for(self, interval: str, watermark: str | None) -> date:
        if self.start is not None:
            return self.start
        if watermark is not None:
            return datetime.fromisoformat(watermark).date() - timedelta(days=self.overlap_days)
        depth = self.minute_backfill_days if interval == "1m" else self.daily_backfill_days
        return self.end - timedelta(days=depth)


class ProviderHealth:
    """A circuit breaker shared by the resources of one run: after `threshold` tickers in a
    row fail without reaching the provider, the rest are marked failed at once instead of
    each waiting through its own retries."""

    def __init__(self, report: RunReport, threshold: int = 3) -> None:
        self.report = report
        self.threshold = threshold
        self.consecutive_transport_failures = 0
        self.unreachable_reason: str | None = None

    def record_success(self) -> None:
        self.consecutive_transport_failures = 0

    def record_failure(self, error: Exception) -> None:
        if not is_transport_error(error):
            self.consecutive_transport_failures = 0
            return
        self.consecutive_transport_failures += 1
        if self.consecutive_transport_failures >= self.threshold:
            self.trip(_describe(error))

    def trip(self, reason: str) -> None:
        """Stop asking the provider; every ticker not yet done fails with this reason."""
        self.unreachable_reason = f"provider unreachable: {reason}"
        self.report.error = self.report.error or self.unreachable_reason
        log.error("%s; the remaining tickers are marked failed", self.unreachable_reason)


def _describe(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _bars(
    provider: MarketDataProvider,
    tickers: list[str],
    plan: FetchPlan,
    report: RunReport,
    health: ProviderHealth,
    interval: str,
) -> Iterator[pa.Table]:
    watermarks: dict[str, str] = dlt.current.resource_state().setdefault("watermarks", {})
    progress = Progress(f"bars_{interval}", len(tickers))
    prefetched: dict[str, pd.DataFrame] = {}
    for i, ticker in enumerate(tickers):
        start = plan.start_for(interval, watermarks.get(ticker))
        if i % plan.tickers_per_request == 0:
            group = tickers[i : i + plan.tickers_per_request]
            starts = [plan.start_for(interval, watermarks.get(t)) for t in group]
            prefetched = _prefetch(provider, group, min(starts), plan.end, interval, health)
        if ticker in prefetched:
            provider_for_ticker: MarketDataProvider = _Prefetched(prefetched[ticker])
        else:
            provider_for_ticker = provider
        batch = _fetch_bars(
            provider_for_ticker,
            ticker,
            start,
            plan.end,
            interval,
            report,
            health,
            adjusted_as_of=request_day(provider, plan),
        )
        progress.update(rows=batch.num_rows if batch is not None else 0, failed=batch is None)
        if batch is None:
            continue
        last = batch.column(BAR_KEY[interval])[-1].as_py().isoformat()
        if last > watermarks.get(ticker, ""):
            watermarks[ticker] = last
        yield batch


def _prefetch(
    provider: MarketDataProvider,
    tickers: list[str],
    start: date,
    end: date,
    interval: str,
    health: ProviderHealth,
) -> dict[str, pd.DataFrame]:
    """Daily bars of a group of tickers in one request where the provider can; {} otherwise
    or when that request fails (each ticker is then asked for alone)."""
    history_many = getattr(provider, "history_many", None)
    if history_many is None or interval != "1d" or len(tickers) < 2 or health.unreachable_reason:
        return {}
    try:
        return history_many(tickers, start=start, end=end + timedelta(days=1), interval=interval)
    except Exception as error:
        log.warning(
            "one request for %d tickers failed (%s); asking one by one", len(tickers), error
        )
        health.record_failure(error)
        return {}


class _Prefetched:
    """A ticker's frame from a group request, served through the one-ticker interface."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def history(self, ticker: str, *, start: date, end: date, interval: str) -> pd.DataFrame:
        return self.frame

    def info(self, ticker: str) -> dict[str, Any]:  # pragma: no cover - never asked
        raise NotImplementedError


def request_day(provider: MarketDataProvider, plan: FetchPlan) -> date:
    """The day the provider answers, which its split adjustment is as of. A provider without
    one (a test fake) is taken to answer on the plan's last day."""
    return getattr(provider, "request_day", plan.end)


BAR_KEY = {"1m": "ts", "1d": "trade_date"}
# Merge on the primary key without dlt's de-duplication of the staged rows (a ROW_NUMBER()
# window over every new row): a load holds each key once already, because every ticker is
# fetched once per run (market_data de-duplicates the list) and normalize keeps the last of
# any bars Yahoo repeats. Should a duplicate ever get through, the raw uniqueness tests of the
# source fail the dbt build and the validated models quarantine the extra bar, so it is
# loud, not silent. Measured: docs/benchmarks.md.
MERGE_DEDUPLICATED: Any = {
    "disposition": "merge",
    "strategy": "delete-insert",
    "deduplicated": True,
}
NORMALIZERS = {"1m": normalize.bars_1m, "1d": normalize.bars_1d}


def _fetch_bars(
    provider: MarketDataProvider,
    ticker: str,
    start: date,
    end: date,
    interval: str,
    report: RunReport,
    health: ProviderHealth,
    *,
    adjusted_as_of: date,
) -> pa.Table | None:
    """One ticker's bars from start through end as a raw-contract table; None when it failed
    (the failure and its reason are recorded in the report). `adjusted_as_of`: the day of the
    request, stamped on every row (see normalize)."""
    if health.unreachable_reason:
        report.fail(ticker, f"{interval}: {health.unreachable_reason}", quiet=True)
        return None
    try:
        frame = provider.history(
            ticker, start=start, end=end + timedelta(days=1), interval=interval
        )
        if frame.empty:
            reason = f"no data returned for {start}..{end} (delisted or wrong symbol?)"
            report.fail(ticker, f"{interval}: {reason}")
            return None
        batch = NORMALIZERS[interval](ticker, frame, adjusted_as_of=adjusted_as_of)
    except Exception as error:  # one ticker never sinks the others
        health.record_failure(error)
        report.fail(ticker, f"{interval}: {_describe(error)}")
        return None
    health.record_success()
    column = batch.table.column(BAR_KEY[interval])
    first, last = column[0].as_py(), column[-1].as_py()
    report.received(ticker, batch.table.num_rows, batch.duplicates_removed, first, last)
    log.info("%s %s: %d rows %s..%s", ticker, interval, batch.table.num_rows, first, last)
    return batch.table


def _ticker_rows(
    provider: MarketDataProvider, tickers: list[str], report: RunReport, health: ProviderHealth
) -> Iterator[pa.Table]:
    rows: list[dict[str, Any]] = []
    progress = Progress("metadata", len(tickers))  # one request per ticker: can be minutes
    for ticker in tickers:
        rows_before = len(rows)
        try:
            if health.unreachable_reason:
                report.fail(ticker, f"metadata: {health.unreachable_reason}", quiet=True)
                continue
            try:
                info = provider.info(ticker)
            except Exception as error:
                health.record_failure(error)
                report.fail(ticker, f"metadata: {_describe(error)}")
                continue
            health.record_success()
            if not info.get("quoteType"):
                report.fail(ticker, "metadata: Yahoo returned no quote type (unknown symbol?)")
                continue
            rows.append(normalize.ticker_row(ticker, info))
        finally:  # each ticker counted once, whichever way it ended
            progress.update(rows=len(rows) - rows_before, failed=len(rows) == rows_before)
    if rows:
        report.rows_received += len(rows)
        yield pa.Table.from_pylist(rows, schema=normalize.TICKERS_SCHEMA)


@dlt.source(name="market_data", max_table_nesting=0)
def market_data(
    provider: MarketDataProvider,
    tickers: list[str],
    plan: FetchPlan,
    report: RunReport,
    health: ProviderHealth | None = None,
) -> Any:
    """bars_1d, bars_1m and tickers for `tickers` from `provider`."""
    tickers = list(dict.fromkeys(tickers))  # each key once per load: see MERGE_DEDUPLICATED
    health = health or ProviderHealth(report)
    resources = []
    if "1d" in plan.intervals:
        resources.append(
            dlt.resource(
                _bars,
                name="bars_1d",
                primary_key=("ticker", "trade_date"),
                write_disposition=MERGE_DEDUPLICATED,
            )(provider, tickers, plan, report, health, "1d")
        )
    # Currency pairs (EURUSD=X) trade around the clock; a daily rate is all the portfolio
    # needs, so they are asked for daily bars only (ingest/yfinance/fx.py).
    minute_tickers = [t for t in tickers if not is_currency_pair(t)]
    if "1m" in plan.intervals and minute_tickers:
        resources.append(
            dlt.resource(
                _bars,
                name="bars_1m",
                primary_key=("ticker", "ts"),
                write_disposition=MERGE_DEDUPLICATED,
            )(provider, minute_tickers, plan, report, health, "1m")
        )
    if plan.with_metadata:
        resources.append(
            dlt.resource(
                _ticker_rows,
                name="tickers",
                primary_key="ticker",
                write_disposition=MERGE_DEDUPLICATED,
            )(provider, tickers, report, health)
        )
    return resources

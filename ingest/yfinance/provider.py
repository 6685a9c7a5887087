"""The seam between the source and Yahoo: one request per call, Yahoo's limits handled here.

`YahooProvider.history` and `.info` are what the dlt source calls; `fetch` (one HTTP
request through yfinance) is the seam the tests replace with recorded shapes.
"""

from __future__ import annotations

import logging
import socket
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import pandas as pd

from ingest.retry import ProviderUnavailable, RetryPolicy

log = logging.getLogger(__name__)

YAHOO_HOST = "query2.finance.yahoo.com"
# Yahoo serves 1-minute bars for about the last 30 days, at most ~8 days per request.
MINUTE_HISTORY_DAYS = 29
MINUTE_REQUEST_DAYS = 7


class ProviderError(Exception):
    """A request that cannot succeed as asked (for example outside Yahoo's 1m window)."""


class MarketDataProvider(Protocol):
    def history(self, ticker: str, *, start: date, end: date, interval: str) -> pd.DataFrame:
        """Bars with start <= exchange-local date < end, in yfinance's shape. A provider may
        also offer history_many(tickers, ...) for daily bars of several tickers at once."""

    def info(self, ticker: str) -> dict[str, Any]:
        """Ticker metadata with yfinance's Ticker.info keys."""


Fetch = Callable[[str, date, date, str], pd.DataFrame]
FetchMany = Callable[[list[str], date, date, str], pd.DataFrame]


def yfinance_fetch(ticker: str, start: date, end: date, interval: str) -> pd.DataFrame:
    """One history request: raw OHLC, adj close and actions, regular hours only."""
    import yfinance as yf

    return yf.Ticker(ticker).history(
        start=start.isoformat(),
        end=end.isoformat(),
        interval=interval,
        auto_adjust=False,
        actions=True,
        prepost=False,
        raise_errors=True,
    )


def yfinance_download(tickers: list[str], start: date, end: date, interval: str) -> pd.DataFrame:
    """One request for several tickers (faster for daily bars): yf.download's MultiIndex layout."""
    import yfinance as yf

    with warnings.catch_warnings():
        # yfinance 1.7's own frame assembly uses rename(inplace=True), which pandas 3.1
        # deprecates: a warning on every download that says nothing about the data.
        warnings.filterwarnings("ignore", message=".*inplace.*", module="yfinance")
        return yf.download(
            tickers=tickers,
            start=start.isoformat(),
            end=end.isoformat(),
            interval=interval,
            group_by="ticker",
            auto_adjust=False,
            actions=True,
            prepost=False,
            threads=False,
            progress=False,
        )


def yfinance_info(ticker: str) -> dict[str, Any]:
    import yfinance as yf

    return dict(yf.Ticker(ticker).info or {})


def minute_windows(start: date, end: date, today: date) -> Iterator[tuple[date, date]]:
    """Split [start, end) into requests Yahoo accepts; refuse ranges it cannot serve."""
    earliest = today - timedelta(days=MINUTE_HISTORY_DAYS)
    if end <= earliest:
        raise ProviderError(
            f"1-minute bars exist only for the last {MINUTE_HISTORY_DAYS + 1} days "
            f"(from {earliest}); asked for {start}..{end - timedelta(days=1)}"
        )
    if start < earliest:
        log.info("1m history starts %s (Yahoo keeps ~30 days); asked from %s", earliest, start)
        start = earliest
    while start < end:
        stop = min(end, start + timedelta(days=MINUTE_REQUEST_DAYS))
        yield start, stop
        start = stop


def _is_no_data(error: Exception) -> bool:
    return type(error).__name__ in {"YFPricesMissingError", "YFTzMissingError"}


class YahooProvider:
    """Yahoo Finance through yfinance, every request under the retry policy."""

    def __init__(
        self,
        fetch: Fetch = yfinance_fetch,
        fetch_many: FetchMany | None = yfinance_download,
        fetch_info: Callable[[str], dict[str, Any]] = yfinance_info,
        policy: RetryPolicy | None = None,
        today: date | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._fetch = fetch
        self._fetch_many = fetch_many
        self._fetch_info = fetch_info
        self._policy = policy or RetryPolicy()
        self._today = today
        self._sleep = sleep

    @property
    def today(self) -> date:
        return self._today or datetime.now(UTC).date()

    @property
    def request_day(self) -> date:
        """The day Yahoo answers (UTC): its prices are split-adjusted as of this day."""
        return self.today

    def _call(self, fn: Callable[[], Any], what: str) -> Any:
        if self._sleep is None:
            return self._policy.call(fn, what=what)
        return self._policy.call(fn, what=what, sleep=self._sleep)

    def _request(self, ticker: str, start: date, end: date, interval: str) -> pd.DataFrame:
        def fetch() -> pd.DataFrame:
            try:
                return self._fetch(ticker, start, end, interval)
            except Exception as error:
                if _is_no_data(error):  # an empty answer, not a failure of the request
                    return pd.DataFrame()
                raise

        return self._call(fetch, what=f"{ticker} {interval} {start}..{end}")

    def check_reachable(self, timeout_s: float = 5.0) -> None:
        """Fail fast, before any ticker, when Yahoo cannot be reached at all (DNS or TCP)."""
        try:
            socket.create_connection((YAHOO_HOST, 443), timeout=timeout_s).close()
        except OSError as error:
            raise ProviderUnavailable(
                f"cannot reach {YAHOO_HOST}:443 ({error.strerror or error}); "
                "check the network or proxy, then run again"
            ) from error

    def history(self, ticker: str, *, start: date, end: date, interval: str) -> pd.DataFrame:
        if interval == "1m":
            windows = list(minute_windows(start, end, self.today))
        else:
            windows = [(start, end)]
        frames = [self._request(ticker, s, e, interval) for s, e in windows]
        frames = [f for f in frames if not f.empty]
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames).sort_index(kind="stable")

    def history_many(
        self, tickers: list[str], *, start: date, end: date, interval: str
    ) -> dict[str, pd.DataFrame]:
        """Daily bars of several tickers in one request, split per ticker (empty when none)."""
        if interval != "1d" or self._fetch_many is None:
            raise ProviderError("several tickers per request only for daily bars")
        fetch_many = self._fetch_many
        frame = self._call(
            lambda: fetch_many(tickers, start, end, interval),
            what=f"{len(tickers)} tickers {interval} {start}..{end}",
        )
        from ingest.yfinance.normalize import split_multi_ticker

        return split_multi_ticker(frame, tickers)

    def info(self, ticker: str) -> dict[str, Any]:
        return self._call(lambda: self._fetch_info(ticker), what=f"{ticker} info")

"""The retry policy and the Yahoo provider's handling of Yahoo's limits, without network."""

from __future__ import annotations

import itertools
import random
from datetime import date

import pandas as pd
import pytest

from ingest.retry import RateLimited, RetryPolicy, is_retryable
from ingest.yfinance.provider import ProviderError, YahooProvider, minute_windows

TODAY = date(2025, 12, 31)


class YFRateLimitError(Exception):
    """Same class name as yfinance's rate-limit error."""


class YFPricesMissingError(Exception):
    """Same class name as yfinance's 'possibly delisted' error."""


class HTTPError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.response = type("Response", (), {"status_code": status})()


@pytest.mark.parametrize(
    "error,expected",
    [
        (YFRateLimitError("Too Many Requests. Rate limited."), True),
        (RateLimited(), True),
        (HTTPError(429), True),
        (HTTPError(503), True),
        (HTTPError(404), False),
        (ConnectionError("reset"), True),
        (ValueError("bad input"), False),
    ],
)
def test_what_is_worth_a_retry(error: Exception, expected: bool) -> None:
    assert is_retryable(error) is expected


def test_retry_backs_off_then_succeeds() -> None:
    calls, waits = [], []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise YFRateLimitError("Too Many Requests")
        return "ok"

    policy = RetryPolicy(attempts=5, base_delay_s=1.0, max_delay_s=8.0)
    assert policy.call(flaky, what="t", sleep=waits.append, rng=random.Random(1)) == "ok"
    assert len(calls) == 3
    assert len(waits) == 2
    assert 0 <= waits[0] <= 1.0 and 0 <= waits[1] <= 2.0  # full jitter under 2**attempt


def test_retry_gives_up_after_the_bounded_attempts() -> None:
    waits: list[float] = []

    def always_limited() -> None:
        raise YFRateLimitError("Too Many Requests")

    with pytest.raises(YFRateLimitError):
        RetryPolicy(attempts=3).call(always_limited, what="t", sleep=waits.append)
    assert len(waits) == 2


def test_a_non_retryable_error_fails_at_once() -> None:
    waits: list[float] = []

    def broken() -> None:
        raise ValueError("no such interval")

    with pytest.raises(ValueError):
        RetryPolicy(attempts=5).call(broken, what="t", sleep=waits.append)
    assert waits == []


def test_minute_ranges_are_chunked_into_requests_yahoo_accepts() -> None:
    windows = list(minute_windows(date(2025, 12, 5), date(2026, 1, 1), TODAY))
    assert windows[0][0] == date(2025, 12, 5)
    assert windows[-1][1] == date(2026, 1, 1)
    assert all((stop - start).days <= 7 for start, stop in windows)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))


def test_minute_range_before_the_window_is_clamped_or_refused() -> None:
    windows = list(minute_windows(date(2025, 10, 1), date(2026, 1, 1), TODAY))
    assert windows[0][0] == date(2025, 12, 2)  # today - 29 days
    with pytest.raises(ProviderError, match="last 30 days"):
        list(minute_windows(date(2025, 6, 1), date(2025, 7, 1), TODAY))


def _frame(day: str) -> pd.DataFrame:
    index = pd.DatetimeIndex([f"{day} 09:30"], name="Datetime").tz_localize("America/New_York")
    return pd.DataFrame({"Open": [1.0], "Close": [1.0]}, index=index)


def test_provider_retries_each_request_and_joins_the_chunks() -> None:
    attempts: dict[date, int] = {}

    def fetch(ticker: str, start: date, end: date, interval: str) -> pd.DataFrame:
        attempts[start] = attempts.get(start, 0) + 1
        if attempts[start] == 1 and start.day % 2 == 0:
            raise YFRateLimitError("Too Many Requests")
        return _frame(start.isoformat())

    provider = YahooProvider(fetch=fetch, today=TODAY, sleep=lambda s: None)
    frame = provider.history("SPY", start=date(2025, 12, 10), end=date(2026, 1, 1), interval="1m")
    assert len(frame) == len(attempts) == 4  # 10th, 17th, 24th, 31st
    assert frame.index.is_monotonic_increasing
    assert attempts[date(2025, 12, 10)] == 2  # rate limited once, then served


def test_provider_turns_yahoos_no_data_error_into_an_empty_frame() -> None:
    def fetch(ticker: str, start: date, end: date, interval: str) -> pd.DataFrame:
        raise YFPricesMissingError("possibly delisted; no price data found")

    provider = YahooProvider(fetch=fetch, today=TODAY, sleep=lambda s: None)
    assert provider.history("GONE", start=date(2025, 1, 1), end=TODAY, interval="1d").empty

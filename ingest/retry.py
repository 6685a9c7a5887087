"""The retry policy of the market-data provider calls (yfinance's own HTTP client, curl):
exponential backoff with full jitter.

The broker's REST API retries through dlt's client instead (ingest/brokerage/api.py: dlt's
tenacity retry, which honours Retry-After, under the API's deadlines)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class RateLimited(Exception):
    """The provider said 'too many requests'; raised by providers to ask for a retry."""


class ProviderUnavailable(Exception):
    """The provider cannot be reached at all: retrying ticker after ticker would only wait."""


# Transport failures as curl (yfinance's HTTP client) and the socket layer word them.
_TRANSPORT_MARKERS = (
    "could not resolve host",
    "failed to connect",
    "connection refused",
    "connection reset",
    "network is unreachable",
    "timed out",
    "name or service not known",
    "temporary failure in name resolution",
)


def is_transport_error(error: BaseException) -> bool:
    """True when the request never reached the provider (DNS, TCP, TLS, timeout)."""
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    if type(error).__name__ in {"DNSError", "ConnectionError", "Timeout", "ConnectTimeout"}:
        return True
    text = str(error).lower()
    return any(marker in text for marker in _TRANSPORT_MARKERS)


def _status_code(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def is_retryable(error: BaseException) -> bool:
    """Rate limits, HTTP 429/5xx and transport errors are worth another try; bad input is not."""
    if isinstance(error, ProviderUnavailable):
        return False
    if isinstance(error, RateLimited) or is_transport_error(error):
        return True
    if type(error).__name__ in {"YFRateLimitError", "Timeout", "ConnectTimeout", "ReadTimeout"}:
        return True
    status = _status_code(error)
    if status is not None:
        return status == 429 or status >= 500
    text = str(error).lower()
    return "too many requests" in text or "rate limit" in text


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))

    def call(
        self,
        fn: Callable[[], T],
        *,
        what: str,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> T:
        rng = rng or random.Random()
        for attempt in range(self.attempts):
            try:
                return fn()
            except Exception as error:
                if not is_retryable(error) or attempt == self.attempts - 1:
                    raise
                wait = self.delay(attempt, rng)
                log.warning(
                    "%s: %s (attempt %d/%d), retrying in %.1fs",
                    what,
                    error,
                    attempt + 1,
                    self.attempts,
                    wait,
                )
                sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

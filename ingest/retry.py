"""The one retry policy for every provider call: exponential backoff with full jitter."""

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


def _status_code(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def is_retryable(error: BaseException) -> bool:
    """Rate limits, HTTP 429/5xx and transport errors are worth another try; bad input is not."""
    if isinstance(error, RateLimited | ConnectionError | TimeoutError):
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

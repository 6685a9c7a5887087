"""The broker's REST API (shape: docs/brokerage.md), loaded with dlt's rest_api source.

- Pagination: the response's `next_cursor` goes back as `cursor` until it is null.
- Auth: a bearer token from dlt secrets (`[sources.brokerage_api] token` in
  .dlt/secrets.toml, or SOURCES__BROKERAGE_API__TOKEN); never from code, never logged.
- Incremental: the cursor is the broker's booking `sequence`, sent as `after_sequence`
  and kept in dlt state. Not `executed_at`: one future-dated transaction (a real broker
  fault, and one of the sample's defects) would push an executed_at cursor past every
  later booking, and dlt would then drop them as "already seen". A booking sequence
  only grows, so a late-booked trade with an old executed_at still arrives.
- Retries are dlt's (`dlt.sources.helpers.requests`): its `Session`, and tenacity with its
  `retry_if_status` (429 and 5xx) and `wait_exponential_retry_after` (exponential back-off;
  a `Retry-After` header, in seconds or as a date, is the wait, capped at the maximum delay),
  set by dlt's own `[runtime]` keys request_max_attempts, request_backoff_factor and
  request_max_retry_delay (RUNTIME__REQUEST_MAX_ATTEMPTS, ...).
- What dlt's retrying `Client` lacks, and why its parts are put together here rather than
  `Client().session` used as it is (its tenacity `Retrying` is built inside the private
  `Client._make_session`, stopped after N attempts only, and `retry_condition` can only add
  reasons to retry, never remove one):
  1. a total deadline per request: requests' timeout is per socket read, so a server that
     drips a byte every few seconds never trips it; each attempt runs in `_DeadlineAdapter`
     (mounted on dlt's session), which reads the body under the deadline;
  2. the run's deadline: no back-off sleeps past it (a `Retry-After: 300` near the end of
     the run fails it at once, saying so) and no attempt starts after it;
  3. no retry of a connection that could not be made (refused, unknown host): a wrong URL
     or a host that is down fails at once, where dlt would retry every ConnectionError.
  A 401 or 400 fails at once, as with dlt.
- Bounds: paging stops at a page cap and when the server sends a
  `next_cursor` it sent before (a paging loop). A stop between pages keeps what was fetched
  (the run is partial, the next run goes on from the incremental state); a request past its
  deadline fails the run. Either way the audit row says why.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import dlt
import pyarrow as pa
import requests
from dlt.sources.helpers.requests.retry import (
    DEFAULT_RETRY_EXCEPTIONS,
    DEFAULT_RETRY_STATUS,
    retry_if_status,
    wait_exponential_retry_after,
)
from dlt.sources.helpers.requests.session import Session
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from dlt.sources.rest_api import rest_api_resources
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_any, retry_if_exception
from urllib3.exceptions import NewConnectionError

from ingest.audit import RunReport
from ingest.brokerage.records import KEYS, Delivered, keep_last_version, parse_record, raw_table
from ingest.brokerage.source import ACCOUNTS_HINTS, TRANSACTIONS_HINTS

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 500
REQUEST_TIMEOUT_S = 30  # per socket operation (connect, each read)
REQUEST_DEADLINE_S = 120.0  # a whole request: connect, headers and body
RUN_DEADLINE_S = 1800.0  # all the run's requests, retries and back-off included
MAX_PAGES = 10_000  # per endpoint and run: 5 M transactions at the default page size
_BODY_READ_BYTES = 65536


class DeadlineExceeded(Exception):
    """A request or the run took longer than its deadline. Not retried (dlt retries HTTP 429
    and 5xx answers and transport errors): a server that cannot answer within minutes is
    stalled, and another attempt would wait as long again."""


@dataclass(frozen=True)
class HttpRetry:
    """dlt's request retry settings: `[runtime]` request_max_attempts, request_backoff_factor
    (the first wait, doubled at each attempt) and request_max_retry_delay (the longest wait,
    a Retry-After included)."""

    max_attempts: int = 5
    backoff_factor: float = 1.0
    max_delay_s: float = 300.0

    @classmethod
    def from_dlt_config(cls) -> HttpRetry:
        """The settings as dlt resolves them (.dlt/config.toml, RUNTIME__* variables)."""
        from dlt.common.configuration import resolve_configuration
        from dlt.common.configuration.specs import RuntimeConfiguration

        config = resolve_configuration(RuntimeConfiguration())
        return cls(
            int(config.request_max_attempts),
            float(config.request_backoff_factor),
            float(config.request_max_retry_delay),
        )


@dataclass
class RunClock:
    """The run's deadline, started by its first request (not by dlt's set-up before it)."""

    deadline_s: float
    started: float | None = None

    def remaining(self) -> float:
        if self.started is None:
            self.started = time.monotonic()
        return self.deadline_s - (time.monotonic() - self.started)

    def __deepcopy__(self, memo: dict[int, Any]) -> RunClock:
        return self  # one run, one clock: dlt deep-copies its configuration


def _what(request: requests.PreparedRequest) -> str:
    """`GET /v1/transactions`: a request as the logs and the audit row name it (no query)."""
    return f"{request.method} {urlsplit(request.url or '').path}"


def _send_within(send: Callable[[], requests.Response], seconds: float, what: str) -> Any:
    """`send()` (a streamed request) with its body read, or DeadlineExceeded after `seconds`.

    The request runs in a daemon thread that reads the body a socket read at a time and
    gives up at the first read after the deadline, so a dripping server is left within one
    of its drips; the caller does not wait for that.
    """
    deadline = time.monotonic() + seconds
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            response = send()
            chunks = []
            while chunk := response.raw.read1(_BODY_READ_BYTES):
                if time.monotonic() > deadline:
                    response.close()
                    return
                chunks.append(chunk)
            response._content = b"".join(chunks)  # what response.json() reads
            response._content_consumed = True
            outcome["response"] = response
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=work, name=f"request {what}", daemon=True).start()
    if not done.wait(max(seconds, 0)) or not outcome:
        raise DeadlineExceeded(f"{what}: no complete answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["response"]


class _DeadlineAdapter(HTTPAdapter):
    """Sends one attempt, headers and body, within the request deadline and the run's."""

    def __init__(self, clock: RunClock, request_deadline_s: float) -> None:
        super().__init__()
        self.clock, self.request_deadline_s = clock, request_deadline_s

    def send(
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
        verify: Any = True, cert: Any = None, proxies: Any = None,
    ) -> requests.Response:  # fmt: skip
        what = _what(request)
        left = self.clock.remaining()
        if left <= 0:
            raise DeadlineExceeded(
                f"{what}: the run's deadline of {self.clock.deadline_s:g} s "
                "(run_deadline_s) has passed"
            )
        if left < self.request_deadline_s:
            seconds = left
            what += f" (the rest of the run's {self.clock.deadline_s:g} s deadline, run_deadline_s)"
        else:
            seconds = self.request_deadline_s
            what += " (request_deadline_s)"
        attempt = partial(
            super().send, request, stream=True, timeout=timeout or REQUEST_TIMEOUT_S,
            verify=verify, cert=cert, proxies=proxies,
        )  # fmt: skip
        return _send_within(attempt, seconds, what)


def _never_connected(error: BaseException) -> bool:
    """A connection refused or a host name that does not resolve (not a connect timeout)."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


def _worth_retrying(error: BaseException) -> bool:
    """dlt's retried exceptions (ConnectionError, Timeout, ChunkedEncodingError), less a
    connection that was never made."""
    return isinstance(error, DEFAULT_RETRY_EXCEPTIONS) and not _never_connected(error)


def retrying_session(
    retry: HttpRetry,
    clock: RunClock,
    request_deadline_s: float = REQUEST_DEADLINE_S,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Session:
    """dlt's Session with dlt's retry (tenacity), each attempt under the deadlines and no
    back-off past the run's; `sleep` is for tests. The module docstring says what differs
    from dlt's `Client` and why.

    dlt's RESTClient raises for HTTP errors in a response hook, inside `send`, so a 429 or
    500 reaches tenacity as an HTTPError that carries its response (and Retry-After).
    """
    session = Session(timeout=REQUEST_TIMEOUT_S, raise_for_status=False)
    adapter = _DeadlineAdapter(clock, request_deadline_s)
    session.mount("http://", adapter)
    session.mount("https://", adapter)

    def stop(state: RetryCallState) -> bool:  # the last attempt, or a wait past the deadline
        return state.attempt_number >= retry.max_attempts or (
            state.upcoming_sleep >= clock.remaining()
        )

    def give_up(state: RetryCallState) -> Any:
        assert state.outcome is not None
        error = state.outcome.exception()
        if state.attempt_number < retry.max_attempts:  # stopped by the run's deadline
            what = _what(state.args[0])
            raise DeadlineExceeded(
                f"{what}: {_answer(error, state)}; the next attempt, in "
                f"{state.upcoming_sleep:g} s, would start after the run's deadline of "
                f"{clock.deadline_s:g} s (run_deadline_s)"
            ) from error
        return state.outcome.result()  # the last answer, or its error raised

    def log_retry(state: RetryCallState) -> None:
        assert state.outcome is not None
        log.warning(
            "%s: %s (attempt %d/%d), retrying in %.1f s",
            _what(state.args[0]), _answer(state.outcome.exception(), state),
            state.attempt_number, retry.max_attempts, state.upcoming_sleep,
        )  # fmt: skip

    retrying = Retrying(
        retry=retry_any(retry_if_status(DEFAULT_RETRY_STATUS), retry_if_exception(_worth_retrying)),
        wait=wait_exponential_retry_after(multiplier=retry.backoff_factor, max=retry.max_delay_s),
        stop=stop,
        retry_error_callback=give_up,
        before_sleep=log_retry,
        sleep=sleep,
        reraise=True,
    )
    session.send = retrying.wraps(session.send)  # type: ignore[method-assign]  # as dlt's does
    return session


def _answer(error: BaseException | None, state: RetryCallState) -> str:
    """What an attempt got: its error, or the status of the answer it returned."""
    if error is not None:
        return f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
    assert state.outcome is not None
    response = state.outcome.result()
    return f"HTTP {getattr(response, 'status_code', '?')}"


@dataclass
class PagingGuard:
    """What one run's paginators share: its report, clock and page cap."""

    report: RunReport
    clock: RunClock
    max_pages: int

    def __deepcopy__(self, memo: dict[int, Any]) -> PagingGuard:
        return self  # the report must stay the run's, whatever dlt copies


class GuardedCursorPaginator(JSONResponseCursorPaginator):
    """`next_cursor` paging that stops at the page cap, at a cursor it has seen before and
    when the run's deadline has passed; the stop is recorded as the endpoint's failure, so
    the run is partial and what was fetched loads."""

    def __init__(self, kind: str, guard: PagingGuard) -> None:
        super().__init__(cursor_path="next_cursor", cursor_param="cursor")
        self.kind, self.guard = kind, guard
        self.pages = 0
        self.seen: set[str] = set()

    def init_request(self, request: Any) -> None:
        super().init_request(request)
        self.pages, self.seen, self._has_next_page = 0, set(), True

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        self.pages += 1
        if not self.has_next_page:
            return
        cursor = str(self._next_reference)
        reason = None
        if cursor in self.seen:
            shown = cursor if len(cursor) <= 40 else cursor[:37] + "..."
            reason = (
                f"the API sent next_cursor {shown!r} a second time, after page {self.pages} "
                "(a paging loop): paging stopped, the pages before it load"
            )
        elif self.pages >= self.guard.max_pages:
            reason = (
                f"paging stopped at the page cap of {self.guard.max_pages} pages (max_pages): "
                "the pages fetched load; raise the cap if the API really has more"
            )
        elif self.guard.clock.remaining() <= 0:
            reason = (
                f"the run's deadline of {self.guard.clock.deadline_s:g} s (run_deadline_s) "
                f"passed after page {self.pages}: paging stopped, the pages fetched load"
            )
        self.seen.add(cursor)
        if reason:
            self._has_next_page = False
            self.guard.report.fail(self.kind, reason)


def _page_to_table(page: list[dict[str, Any]], kind: str, report: RunReport) -> Iterator[pa.Table]:
    """One API page -> one arrow table in the raw shape."""
    key = KEYS[kind]
    delivered, keyless = [], 0
    unparsed: Counter[str] = Counter()
    for item in page:
        row = parse_record(kind, item)
        if row[key] is None:
            keyless += 1
            continue
        if row["unparsed_values"] is not None:
            unparsed.update(json.loads(row["unparsed_values"]).keys())
        delivered.append(Delivered(row, export="api"))
    if keyless:
        report.fail(kind, f"{keyless} item(s) without {key} skipped")
    report.unparsed(kind, unparsed)  # loaded for dbt to reject; the run is partial
    result = keep_last_version(kind, delivered)
    instants = [d.row["executed_at"] for d in delivered if d.row.get("executed_at")]
    report.received(
        kind, len(delivered), result.duplicates_removed, min(instants, default=None),
        max(instants, default=None),
    )  # fmt: skip
    if result.rows:
        yield raw_table(kind, result.rows)


@dlt.source(name="brokerage", section="brokerage_api", max_table_nesting=0)
def brokerage_api(
    report: RunReport,
    retry: HttpRetry,
    base_url: str = dlt.config.value,
    token: str = dlt.secrets.value,
    page_size: int = DEFAULT_PAGE_SIZE,
    request_deadline_s: float = REQUEST_DEADLINE_S,
    run_deadline_s: float = RUN_DEADLINE_S,
    max_pages: int = MAX_PAGES,
) -> Any:
    """Accounts and transactions from the broker's REST API at `base_url`.

    The bounds are dlt config (`[sources.brokerage_api]` in .dlt/config.toml, or
    SOURCES__BROKERAGE_API__MAX_PAGES etc.) or the CLI's options; docs/brokerage.md.
    """
    for name, value in (
        ("request_deadline_s", request_deadline_s),
        ("run_deadline_s", run_deadline_s),
        ("max_pages", max_pages),
    ):
        if not value > 0:
            raise ValueError(f"{name} must be positive, not {value}")
    url = urlsplit(base_url)
    if url.username is not None or url.password is not None:
        # dlt keeps a source's arguments in its trace file (and they reach logs): a secret
        # in the URL would be written in clear. The message does not repeat it.
        shown = url._replace(netloc=url.netloc.rpartition("@")[2]).geturl()
        raise ValueError(
            f"base_url holds a user name or password ({shown} with credentials before the "
            "host): give the API's credential as the token (SOURCES__BROKERAGE_API__TOKEN), "
            "never in the URL"
        )
    clock = RunClock(float(run_deadline_s))
    guard = PagingGuard(report, clock, int(max_pages))
    pages = rest_api_resources(
        {
            "client": {
                "base_url": base_url.rstrip("/") + "/",
                "auth": BearerTokenAuth(token=token),
                "session": retrying_session(retry, clock, float(request_deadline_s)),
            },
            "resource_defaults": {"endpoint": {"params": {"limit": page_size}}},
            "resources": [
                {
                    "name": "account_pages",
                    "primary_key": "account_id",
                    "endpoint": {
                        "path": "v1/accounts",
                        "data_selector": "accounts",
                        "paginator": GuardedCursorPaginator("accounts", guard),
                    },
                },
                {
                    "name": "transaction_pages",
                    "primary_key": "transaction_id",
                    "endpoint": {
                        "path": "v1/transactions",
                        "data_selector": "transactions",
                        "paginator": GuardedCursorPaginator("transactions", guard),
                        "incremental": {
                            "start_param": "after_sequence",
                            "cursor_path": "sequence",
                            "initial_value": 0,
                        },
                    },
                },
            ],
        }
    )
    by_name = {resource.name: resource for resource in pages}
    return (
        dlt.transformer(_page_to_table, data_from=by_name["account_pages"], **ACCOUNTS_HINTS)(
            "accounts", report
        ),
        dlt.transformer(
            _page_to_table, data_from=by_name["transaction_pages"], **TRANSACTIONS_HINTS
        )("transactions", report),
    )

"""A mock broker REST API on 127.0.0.1 that serves the sample brokerage data.

The API (docs/brokerage.md): `GET /v1/accounts` and `GET /v1/transactions`, a bearer
token, cursor pagination (`limit`, `cursor` -> `next_cursor`), and for transactions an
incremental filter `after_sequence` on the broker's booking sequence. Money and
instants are strings, as brokers send them. A seeded share of requests is answered
429 or 500 so the client's retry policy has work.

    python -m sampleworld.mock_broker --port 8765        # Ctrl-C stops it

Tests use `serve(MockBroker(...))`, a context manager on a free port.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import random
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa

from ingest.brokerage.records import format_value

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "mock-broker-token"  # a mock's token, not a secret: docs/brokerage.md
TOKEN_ENV = "BROKERAGE_MOCK_TOKEN"
MAX_LIMIT = 1000


def api_item(row: dict[str, Any]) -> dict[str, Any]:
    """A typed row as the broker's JSON: strings for money and instants, null for none."""
    return {column: (format_value(v) if v is not None else None) for column, v in row.items()}


class MockBroker:
    """The broker's books: accounts, and transactions numbered in booking order."""

    def __init__(
        self,
        accounts: pa.Table,
        transactions: pa.Table,
        *,
        token: str = DEFAULT_TOKEN,
        page_size: int = 100,
        failure_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.token = token
        self.page_size = page_size
        self.failure_rate = failure_rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.accounts = [
            api_item(r) | {"sequence": i + 1} for i, r in enumerate(accounts.to_pylist())
        ]
        self.transactions: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, str], int]] = []  # (path, query, status)
        self.book(transactions)

    def book(self, transactions: pa.Table) -> None:
        """Book transactions after the existing ones, in execution order."""
        rows = sorted(
            transactions.to_pylist(), key=lambda r: (r["executed_at"], r["transaction_id"])
        )
        with self._lock:
            for row in rows:
                self.transactions.append(api_item(row) | {"sequence": len(self.transactions) + 1})

    def answer(
        self, path: str, query: dict[str, str], authorization: str | None
    ) -> tuple[int, Any]:
        """(HTTP status, JSON body) for one GET request; the request is logged."""
        status, body = self._answer(path, query, authorization)
        with self._lock:
            self.requests.append((path, query, status))
        return status, body

    def _answer(
        self, path: str, query: dict[str, str], authorization: str | None
    ) -> tuple[int, Any]:
        # The token first, as a real API: a caller without it learns nothing, not even that
        # the server is busy (a 429/500 before it made a wrong token look like a retry case).
        if authorization != f"Bearer {self.token}":
            return HTTPStatus.UNAUTHORIZED, {"error": "missing or invalid bearer token"}
        collections = {"/v1/accounts": "accounts", "/v1/transactions": "transactions"}
        if path not in collections:
            return HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {path}"}
        with self._lock:
            roll, pick = self._rng.random(), self._rng.random()
        if roll < self.failure_rate:
            if pick < 0.5:
                return HTTPStatus.TOO_MANY_REQUESTS, {"error": "rate limit exceeded, slow down"}
            return HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error, try again"}
        try:
            limit = int(query.get("limit", self.page_size))
            after = int(query.get("after_sequence", 0))
            if "cursor" in query:
                after = max(after, json.loads(base64.urlsafe_b64decode(query["cursor"]))["after"])
        except (ValueError, KeyError, TypeError) as error:
            return HTTPStatus.BAD_REQUEST, {"error": f"bad query parameter: {error}"}
        if not 1 <= limit <= MAX_LIMIT:
            return HTTPStatus.BAD_REQUEST, {"error": f"limit must be 1..{MAX_LIMIT}"}
        name = collections[path]
        with self._lock:
            items = [i for i in getattr(self, name) if i["sequence"] > after]
        page, more = items[:limit], len(items) > limit
        cursor = (
            base64.urlsafe_b64encode(json.dumps({"after": page[-1]["sequence"]}).encode()).decode()
            if more
            else None
        )
        return HTTPStatus.OK, {name: page, "next_cursor": cursor}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        status, body = self.server.broker.answer(url.path, query, self.headers.get("Authorization"))
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            self.send_header("Retry-After", "1")
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="mock-broker"')
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, broker: MockBroker, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.broker = broker


@contextmanager
def serve(broker: MockBroker, port: int = 0) -> Iterator[str]:
    """Serve `broker` on 127.0.0.1 (port 0: a free one) in a thread; yields the base URL."""
    server = _Server(broker, port)
    thread = threading.Thread(target=server.serve_forever, name="mock-broker", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def sample_broker(
    as_of: date, *, seed: int = 42, defects: bool = True, **options: Any
) -> MockBroker:
    """A broker whose books are the sample generator's accounts and transactions."""
    from sampleworld.brokerage import generate_brokerage
    from sampleworld.market import SampleMarket

    market = SampleMarket(as_of, seed=seed, defects=defects)
    accounts, transactions = generate_brokerage(market)
    return MockBroker(accounts, transactions, seed=seed, **options)


def main(argv: Sequence[str] | None = None) -> int:
    from ingest import calendar

    parser = argparse.ArgumentParser(
        prog="python -m sampleworld.mock_broker",
        description="Serve the sample brokerage data as a broker REST API on 127.0.0.1 "
        "(see docs/brokerage.md). Prints the base URL on the first line of stdout.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8765,
        help="port to listen on; 0 picks a free one (default: 8765)",
    )
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        metavar="DATE",
        help="last day of the sample world (default: the latest closed NYSE session)",
    )
    parser.add_argument("--seed", type=int, default=42, help="sample seed (default: 42)")
    parser.add_argument(
        "--no-defects", action="store_true", help="leave out the sample's deliberate bad rows"
    )
    parser.add_argument(
        "--page-size", type=int, default=100, metavar="N", help="default page size (default: 100)"
    )
    parser.add_argument(
        "--failure-rate",
        type=float,
        default=0.1,
        metavar="P",
        help="share of requests answered 429 or 500 (default: 0.1)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV, DEFAULT_TOKEN),
        help=f"bearer token the server accepts (default: ${TOKEN_ENV} or the documented "
        "mock token)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    broker = sample_broker(
        args.as_of or calendar.last_closed_session(),
        seed=args.seed,
        defects=not args.no_defects,
        token=args.token,
        page_size=args.page_size,
        failure_rate=args.failure_rate,
    )
    try:
        with serve(broker, args.port) as url:
            print(url, flush=True)
            log.info(
                "mock broker: %d accounts, %d transactions at %s (Ctrl-C stops it)",
                len(broker.accounts),
                len(broker.transactions),
                url,
            )
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

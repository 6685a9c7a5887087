"""The broker REST API through dlt's rest_api source against the mock broker on 127.0.0.1:
pagination, bearer auth, 429/500 answers absorbed by the retry policy, an incremental cursor
that only fetches new bookings."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import requests

from ingest.audit import EXIT_OK, RunReport
from ingest.brokerage.api import (
    DeadlineExceeded,
    HttpRetry,
    RunClock,
    brokerage_api,
    retrying_session,
)
from ingest.cli import main
from ingest.config import RAW_BROKERAGE, resolve_warehouse
from ingest.runner import run_source
from sampleworld.brokerage import generate_brokerage
from sampleworld.market import SampleMarket
from sampleworld.mock_broker import MockBroker, serve

REPO = Path(__file__).resolve().parents[1]
TOKEN = "test-token-0123456789"
FAST = HttpRetry(max_attempts=8, backoff_factor=0.001, max_delay_s=0.01)  # Retry-After too


@pytest.fixture(scope="module")
def books(market: SampleMarket) -> tuple[pa.Table, pa.Table]:
    return generate_brokerage(market)


def load(url: str, *, token: str = TOKEN, page_size: int = 50) -> RunReport:
    report = RunReport(
        pipeline="test_brokerage_api", source="api", items_requested=["accounts", "transactions"]
    )
    source = brokerage_api(report, FAST, base_url=url, token=token, page_size=page_size)
    return run_source(
        resolve_warehouse(),
        report,
        source,
        pipeline_name="test_brokerage_api",
        dataset=RAW_BROKERAGE,
    )


def sql(query: str) -> list[tuple]:
    with duckdb.connect(str(resolve_warehouse().path), read_only=True) as con:
        return con.execute(query).fetchall()


def raw_ids() -> list[str]:
    return [r[0] for r in sql("select transaction_id from raw_brokerage.transactions")]


def transaction_requests(broker: MockBroker) -> list[dict[str, str]]:
    return [
        q for path, q, status in broker.requests if path == "/v1/transactions" and status == 200
    ]


def test_every_row_loads_although_30_percent_of_requests_fail(books) -> None:
    accounts, transactions = books
    broker = MockBroker(accounts, transactions, token=TOKEN, failure_rate=0.3, seed=3)
    with serve(broker) as url:
        report = load(url)
    assert report.exit_code == EXIT_OK, report.summary()
    statuses = [status for _, _, status in broker.requests]
    assert statuses.count(429) > 0 and statuses.count(500) > 0
    assert 0.15 < (len(statuses) - statuses.count(200)) / len(statuses) < 0.45
    assert len(transaction_requests(broker)) >= transactions.num_rows // 50  # paginated
    ids = raw_ids()
    assert len(ids) == len(set(ids)) == transactions.num_rows
    assert sql("select count(*) from raw_brokerage.accounts") == [(accounts.num_rows,)]
    # what the API said, typed as the contract says
    expected = {r["transaction_id"]: r for r in transactions.to_pylist()}
    for transaction_id, executed_at, quantity, amount in sql(
        "select transaction_id, executed_at, quantity, amount from raw_brokerage.transactions"
    ):
        row = expected[transaction_id]
        assert (executed_at, quantity, amount) == (
            row["executed_at"],
            row["quantity"],
            row["amount"],
        )


def test_an_incremental_run_fetches_only_new_bookings(books) -> None:
    accounts, transactions = books
    first, later = (
        transactions.slice(0, transactions.num_rows - 5),
        transactions.slice(transactions.num_rows - 5),
    )
    broker = MockBroker(accounts, first, token=TOKEN)
    with serve(broker) as url:
        load(url)
        last_sequence = broker.transactions[-1]["sequence"]
        broker.requests.clear()
        broker.book(later)
        second = load(url)
        asked = transaction_requests(broker)
        broker.requests.clear()
        third = load(url)
    assert asked[0]["after_sequence"] == str(last_sequence)
    assert second.rows_received == accounts.num_rows + 5
    assert third.rows_received == accounts.num_rows
    assert transaction_requests(broker)[0]["after_sequence"] == str(last_sequence + 5)
    assert len(raw_ids()) == len(set(raw_ids())) == transactions.num_rows


def test_a_future_dated_transaction_does_not_hide_later_bookings(books) -> None:
    """Why the cursor is the booking sequence and not executed_at."""
    accounts, transactions = books
    rows = transactions.slice(0, 3).to_pylist()
    future = rows[0] | {
        "transaction_id": "F-1",
        "executed_at": datetime.now(UTC) + timedelta(days=365),
    }
    late = rows[1] | {"transaction_id": "L-1"}  # booked after, executed long before
    booked = pa.Table.from_pylist([*rows, future], schema=transactions.schema)
    broker = MockBroker(accounts, booked, token=TOKEN)
    with serve(broker) as url:
        load(url)
        broker.book(pa.Table.from_pylist([late], schema=transactions.schema))
        load(url)
    assert "L-1" in raw_ids()


def test_a_bad_token_fails_at_once_and_is_audited(books, caplog) -> None:
    accounts, transactions = books
    broker = MockBroker(accounts, transactions, token=TOKEN)
    caplog.set_level(logging.DEBUG)
    with serve(broker) as url:
        report = load(url, token="wrong-token-9876543210")
    assert report.status == "failed"
    assert "401" in (report.error or "")
    assert [status for _, _, status in broker.requests] == [401]  # not retried
    assert sql("select status from raw_ingest.runs") == [("failed",)]
    assert "wrong-token-9876543210" not in caplog.text


def test_the_token_never_reaches_the_logs(books, caplog) -> None:
    accounts, transactions = books
    broker = MockBroker(accounts, transactions.slice(0, 20), token=TOKEN, failure_rate=0.5, seed=1)
    caplog.set_level(logging.DEBUG)
    with serve(broker) as url:
        load(url, page_size=5)
    assert "retrying" in caplog.text
    assert TOKEN not in caplog.text


def first_answer_429(books) -> MockBroker:
    """A mock whose first request (seeded) is answered 429 with its `Retry-After: 1`, the
    second 200."""
    accounts, transactions = books
    return MockBroker(accounts, transactions.slice(0, 3), token=TOKEN, failure_rate=0.5, seed=7)


def test_a_retry_after_longer_than_the_back_off_is_waited_for(books) -> None:
    broker, waits = first_answer_429(books), []
    session = retrying_session(
        HttpRetry(max_attempts=3, backoff_factor=0.001, max_delay_s=10), RunClock(60),
        sleep=waits.append,
    )  # fmt: skip
    with serve(broker) as url:
        answer = session.get(f"{url}/v1/accounts", headers={"Authorization": f"Bearer {TOKEN}"})
    assert [status for _, _, status in broker.requests] == [429, 200]
    assert answer.status_code == 200
    assert waits == [1.0]  # the header's second, not the back-off's 0.001 s


def test_a_retry_after_past_the_run_deadline_fails_at_once_and_says_why(books) -> None:
    broker, waits = first_answer_429(books), []
    session = retrying_session(HttpRetry(max_delay_s=10), RunClock(0.5), sleep=waits.append)
    with serve(broker) as url, pytest.raises(DeadlineExceeded) as stopped:
        session.get(f"{url}/v1/accounts", headers={"Authorization": f"Bearer {TOKEN}"})
    assert waits == [] and len(broker.requests) == 1
    assert "GET /v1/accounts: HTTP 429; the next attempt, in 1 s" in str(stopped.value)
    assert "run's deadline of 0.5 s (run_deadline_s)" in str(stopped.value)


def test_a_refused_connection_is_not_retried() -> None:
    import socket

    with socket.socket() as free:  # a port nothing listens on once closed
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    waits: list[float] = []
    session = retrying_session(HttpRetry(), RunClock(60), sleep=waits.append)
    with pytest.raises(requests.ConnectionError):
        session.get(f"http://127.0.0.1:{port}/v1/accounts")
    assert waits == []


def test_the_cli_command_reads_the_token_from_the_environment(books, monkeypatch, capsys) -> None:
    accounts, transactions = books
    broker = MockBroker(accounts, transactions.slice(0, 10), token=TOKEN)
    with serve(broker) as url:
        assert main(["brokerage-api", "--base-url", url]) == 1
        err = capsys.readouterr().err
        assert "needs token" in err and "SOURCES__BROKERAGE_API__TOKEN" in err
        monkeypatch.setenv("SOURCES__BROKERAGE_API__TOKEN", TOKEN)
        monkeypatch.setenv("INGEST_PROGRESS", "plain")  # dlt's progress, as in cron
        assert main(["brokerage-api", "--base-url", url, "--page-size", "4"]) == EXIT_OK
    err = capsys.readouterr().err
    assert "brokerage_api: success; 2/2 endpoints loaded" in err
    assert "dlt Extract brokerage: Resources 2/2, accounts 3, transactions 10;" in err
    assert "dlt Normalize brokerage: Files 3/3, " in err and "dlt Load brokerage: Jobs " in err
    assert len(raw_ids()) == 10


def test_the_mock_pages_with_a_cursor_and_checks_the_token(books) -> None:
    accounts, transactions = books
    broker = MockBroker(accounts, transactions, token=TOKEN, page_size=100)
    with serve(broker) as url:
        assert requests.get(f"{url}/v1/accounts", timeout=5).status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        seen, params = [], {"limit": "100"}
        while True:
            body = requests.get(f"{url}/v1/transactions", params=params, headers=auth, timeout=5)
            page = body.json()
            seen += [item["transaction_id"] for item in page["transactions"]]
            if not page["next_cursor"]:
                break
            params = {"limit": "100", "cursor": page["next_cursor"]}
        bad = requests.get(f"{url}/v1/transactions?limit=0", headers=auth, timeout=5)
    assert sorted(seen) == sorted(transactions.column("transaction_id").to_pylist())
    assert bad.status_code == 400


def test_the_mock_runs_as_a_module_on_a_free_port() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "sampleworld.mock_broker", "--port", "0", "--as-of",
         "2025-12-31", "--failure-rate", "0", "--token", TOKEN],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        answer = requests.get(
            f"{url}/v1/accounts", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert [a["account_id"] for a in answer.json()["accounts"]] == [
        "ACC-1001",
        "ACC-1002",
        "ACC-2001",
    ]

"""Issue 19, first slice: one bad value never blocks a load, network work is bounded, no SQL is
built from user text, and exit codes survive the daily workflow.

Every test here failed on the code before its fix (the issue's table of cases)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from ingest.audit import EXIT_PARTIAL
from ingest.brokerage.records import parse_decimal, parse_instant
from ingest.cli import main
from ingest.config import resolve_warehouse
from sampleworld.mock_broker import MockBroker, serve

REPO = Path(__file__).resolve().parents[1]
TOKEN = "test-token-0123456789"
HEADER = "transaction_id,account_id,executed_at,ticker,action,quantity,price,fees,amount,currency\n"


def sql(query: str) -> list[tuple]:
    with duckdb.connect(str(resolve_warehouse().path), read_only=True) as con:
        return con.execute(query).fetchall()


def unparsed_by_id() -> dict[str, tuple[dict[str, str] | None, str | None, int | None]]:
    rows = sql(
        "select transaction_id, unparsed_values, source_file, source_line "
        "from raw_brokerage.transactions"
    )
    return {i: (json.loads(u) if u else None, f, line) for i, u, f, line in rows}


# --- 1. one huge number never blocks a load -------------------------------------------------

HUGE = {
    "quantity": "12345678901234567890123",  # 23 digits: more than Decimal's 28 after rounding
    "price": "1e400",
    "fees": "-99999999999999999999999999999",
    "amount": "123456789012345.5",  # parses, but does not fit DECIMAL(18,4)
}


@pytest.mark.parametrize(
    ("text", "scale", "expected"),
    [
        ("12345678901234567890123", 6, None),
        ("1e400", 6, None),
        ("-1e400", 4, None),
        ("1e-400", 6, "0.000000"),
        ("1000000000000", 6, None),  # 13 integer digits: DECIMAL(18,6) holds 12
        ("999999999999.999999", 6, "999999999999.999999"),
        ("999999999999.9999995", 6, None),  # rounds up past the column
        ("99999999999999.9999", 4, "99999999999999.9999"),
        ("NaN", 4, None),
        ("Infinity", 6, None),
    ],
)
def test_parse_decimal_never_raises_and_refuses_what_the_column_cannot_hold(
    text, scale, expected
) -> None:
    value = parse_decimal(text, scale)
    assert (None if value is None else str(value)) == expected


def test_an_instant_out_of_range_in_utc_is_unparsed_not_an_error() -> None:
    assert parse_instant("0001-01-01T00:00:00+01:00") is None
    assert parse_instant("9999-12-31T23:59:59-05:00") is None


def test_huge_numbers_in_one_export_do_not_block_it_or_a_good_one(tmp_path, capsys) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad_line = ",".join(
        ["T-HUGE", "ACC-1", "2025-12-26T15:20:54Z", "KO", "buy"]
        + [HUGE[c] for c in ("quantity", "price", "fees", "amount")]
        + ["USD"]
    )
    (inbox / "transactions_a.csv").write_text(
        HEADER + "T-OK-1,ACC-1,2025-12-26T15:20:54Z,KO,buy,1,10,0,-10,USD\n" + bad_line + "\n"
    )
    (inbox / "transactions_b.csv").write_text(
        HEADER + "T-OK-2,ACC-1,2025-12-29T15:20:54Z,KO,buy,25,121.52,0,-3038,USD\n"
    )

    code = main(["brokerage-csv", "--inbox", str(inbox)])

    err = capsys.readouterr().err
    # bad values are dbt's to reject, not a failed file: both files load; the run is partial
    # and names the file and its cells that did not parse (issue 14)
    assert code == EXIT_PARTIAL, err
    assert "brokerage_csv: partial; 2/2 files loaded" in err
    assert "transactions_a.csv (amount 1, fees 1, price 1, quantity 1)" in err
    rows = unparsed_by_id()
    assert set(rows) == {"T-OK-1", "T-HUGE", "T-OK-2"}
    assert rows["T-HUGE"] == (HUGE, "transactions_a.csv", 3)
    assert rows["T-OK-2"] == (None, "transactions_b.csv", 2)
    assert sql(
        "select quantity, price, fees, amount, executed_at is not null "
        "from raw_brokerage.transactions where transaction_id = 'T-HUGE'"
    ) == [(None, None, None, None, True)]
    assert sql("select status, tickers_failed from raw_ingest.runs") == [("partial", "[]")]


def test_huge_numbers_from_the_api_are_kept_unparsed(market) -> None:
    from sampleworld.brokerage import generate_brokerage

    accounts, transactions = generate_brokerage(market)
    broker = MockBroker(accounts, transactions.slice(0, 5), token=TOKEN)
    broker.transactions[2].update(HUGE)
    huge_id = broker.transactions[2]["transaction_id"]
    with serve(broker) as url:
        code = main(["brokerage-api", "--base-url", url])
    assert code == EXIT_PARTIAL  # loaded, and the item's unparsed cells counted (issue 14)
    assert sql("select status, tickers_failed from raw_ingest.runs") == [("partial", "[]")]
    rows = unparsed_by_id()
    assert len(rows) == 5
    assert rows[huge_id][0] == HUGE
    assert [r for i, r in rows.items() if i != huge_id and r[0]] == []


@pytest.fixture(autouse=True)
def _api_token(monkeypatch) -> None:
    monkeypatch.setenv("SOURCES__BROKERAGE_API__TOKEN", TOKEN)


# --- 2. bounded network work for the broker API ---------------------------------------------


class MisbehavingBroker(BaseHTTPRequestHandler):
    """A broker API that answers accounts properly and transactions in one of these ways:
    `drip` (one byte of the body every 0.5 s), `same_cursor` (the same next_cursor for ever),
    `endless` (a new cursor and new items on every page)."""

    server: _MisbehavingServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.server.paths.append(url.path)
        if url.path == "/v1/accounts":
            self._json({"accounts": [{"account_id": "ACC-1", "sequence": 1}], "next_cursor": None})
            return
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        first = int(query.get("after_sequence", "0")) // 10 + 1  # sequences are page * 10 + i
        page = int(query.get("cursor", first)) if self.server.mode == "endless" else first
        items = [
            {"transaction_id": f"T-{page}-{i}", "account_id": "ACC-1", "action": "deposit",
             "amount": "10", "sequence": page * 10 + i}
            for i in range(3)
        ]  # fmt: skip
        mode = self.server.mode
        if mode == "drip":
            body = json.dumps({"transactions": items, "next_cursor": None}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for byte in body:
                if self.server.stopping.wait(0.5):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            return
        if mode == "same_cursor":
            self._json({"transactions": items, "next_cursor": "7"})  # the same page again
            return
        self._json({"transactions": items, "next_cursor": str(page + 1)})

    def _json(self, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _MisbehavingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), MisbehavingBroker)
        self.mode = mode
        self.paths: list[str] = []
        self.stopping = threading.Event()


@contextmanager
def misbehaving(mode: str) -> Iterator[_MisbehavingServer]:
    server = _MisbehavingServer(mode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


def load_api(server: _MisbehavingServer, *options: str) -> tuple[int, str, float]:
    """Run `brokerage-api` against the server: (exit code, stderr, seconds)."""
    url = f"http://127.0.0.1:{server.server_address[1]}"
    started = time.monotonic()
    code = main(["brokerage-api", "--base-url", url, *options])
    return code, "", time.monotonic() - started


def audit_row() -> tuple[str, list[dict[str, str]], str | None]:
    [(status, failed, error)] = sql("select status, tickers_failed, error from raw_ingest.runs")
    return status, json.loads(failed), error


def test_a_server_dripping_its_answer_fails_the_run_at_the_request_deadline(capsys) -> None:
    with misbehaving("drip") as server:
        code, _, seconds = load_api(server, "--request-deadline", "1.5")
    err = capsys.readouterr().err
    assert code == 1, err
    assert seconds < 15  # before: ran until killed
    status, _, error = audit_row()
    assert status == "failed"
    assert "GET /v1/transactions" in error and "no complete answer within 1.5 s" in error
    assert "request_deadline_s" in error
    [summary] = [line for line in err.splitlines() if line.startswith("brokerage_api:")]
    assert "failed" in summary and "no complete answer within 1.5 s" in summary


def test_a_repeated_next_cursor_stops_paging_and_the_pages_before_it_load(capsys) -> None:
    with misbehaving("same_cursor") as server:
        code, _, seconds = load_api(server)
    err = capsys.readouterr().err
    assert code == 3, err  # partial
    assert seconds < 15
    assert server.paths.count("/v1/transactions") == 2  # before: thousands, until killed
    status, failed, _ = audit_row()
    assert status == "partial"
    assert failed[0]["ticker"] == "transactions"
    assert "sent next_cursor '7' a second time, after page 2" in failed[0]["reason"]
    assert sql("select count(*) from raw_brokerage.transactions") == [(3,)]
    assert "paging loop" in err


def test_the_page_cap_stops_an_endless_api_and_the_next_run_goes_on(capsys) -> None:
    with misbehaving("endless") as server:
        code, _, _ = load_api(server, "--max-pages", "3")
        assert server.paths.count("/v1/transactions") == 3
        status, failed, _ = audit_row()
        assert (code, status) == (3, "partial")
        assert "page cap of 3 pages (max_pages)" in failed[0]["reason"]
        assert sql("select count(*) from raw_brokerage.transactions") == [(9,)]
        assert load_api(server, "--max-pages", "3")[0] == 3  # from the last sequence on
    assert sql("select count(*) from raw_brokerage.transactions") == [(18,)]
    assert "max_pages" in capsys.readouterr().err


def test_the_run_deadline_bounds_an_endless_api(capsys) -> None:
    with misbehaving("endless") as server:
        code, _, seconds = load_api(server, "--run-deadline", "1")
    err = capsys.readouterr().err
    assert code in (1, 3), err  # stopped between pages (partial) or during one (failed)
    assert seconds < 15
    status, failed, error = audit_row()
    assert status in ("failed", "partial")
    assert "run_deadline_s" in (error or "") + json.dumps(failed)


def test_the_bounds_are_dlt_config_and_checked(monkeypatch, capsys) -> None:
    monkeypatch.setenv("SOURCES__BROKERAGE_API__MAX_PAGES", "2")
    with misbehaving("endless") as server:
        assert load_api(server)[0] == 3
        assert server.paths.count("/v1/transactions") == 2
        monkeypatch.setenv("SOURCES__BROKERAGE_API__MAX_PAGES", "0")
        assert load_api(server)[0] == 1
    assert "max_pages must be positive" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["brokerage-api", "--base-url", "http://127.0.0.1:9", "--run-deadline", "-1"])
    assert exit_.value.code == 2


# --- 3. no SQL built from user text ----------------------------------------------------------

# Quotes, a semicolon, spaces, a dollar, a comment: what a shell user can put in a path. (Not a
# backslash: DuckDB reads it as a path separator, so such a warehouse path cannot be opened.)
HOSTILE = 'o\'brien; "q" $x -- z'


def test_every_path_the_cli_accepts_may_hold_quotes_semicolons_and_spaces(tmp_path) -> None:
    import shutil

    from tests.pipeline import ingest, query, warehouse_env

    base = tmp_path / HOSTILE
    # WAREHOUSE_PATH inside it; dlt's folder not (see the next test)
    env = warehouse_env(base) | {"INGEST_PIPELINES_DIR": str(tmp_path / "dlt")}
    replay = base / f"replay {HOSTILE}"
    replay.mkdir(parents=True)
    for name in ("CALM.csv", "CALM.info.json"):
        shutil.copy(REPO / "tests" / "data" / "yfinance_replay" / name, replay / name)
    tickers = base / f"tickers {HOSTILE}.txt"
    tickers.write_text("CALM\n")
    inbox = base / f"inbox {HOSTILE}"
    inbox.mkdir()
    (inbox / f"transactions {HOSTILE}.csv").write_text(
        HEADER + "T-1,ACC-1,2025-12-26T15:20:54Z,KO,buy,1,10,0,-10,USD\n"
    )

    ingest(env, "yfinance", "--replay", str(replay), "--tickers-file", str(tickers),
           "--intervals", "1d")  # fmt: skip
    ingest(env, "brokerage-csv", "--inbox", str(inbox))
    ingest(env, "check")
    lake = base / f"lake {HOSTILE}"
    ingest(env, "export-parquet", "--to", str(lake))

    bars = query(env, "select count(*) from raw_yfinance.bars_1d where ticker = 'CALM'")[0][0]
    assert bars > 0
    assert query(env, "select source_file from raw_brokerage.transactions") == [
        (f"transactions {HOSTILE}.csv",)
    ]
    assert len(list((lake / "bars_1d" / "ticker=CALM").glob("year=*/*.parquet"))) > 1


def test_a_crafted_lake_path_runs_no_sql_of_its_own(tmp_path) -> None:
    from tests.pipeline import ingest, warehouse_env

    env = warehouse_env(tmp_path)
    replay = tmp_path / "replay"
    replay.mkdir()
    for name in ("CALM.csv", "CALM.info.json"):
        (replay / name).write_bytes((REPO / "tests/data/yfinance_replay" / name).read_bytes())
    ingest(env, "yfinance", "--replay", str(replay), "--intervals", "1d")
    marker = tmp_path / "injected"
    # Pasted into `copy (...) to '<dir>' (format parquet, partition_by (ticker, year), ...)`,
    # this made two statements, the second writing the marker.
    crafted = tmp_path / (
        "lake' (format csv); copy (select 42 as injected, 'X' as ticker, 2000 as year) "
        f"to '{marker}"
    )
    ingest(env, "export-parquet", "--to", str(crafted))
    # before: the path's own options ran (a CSV file `lake` next to it), then its statement
    assert not (tmp_path / "lake").exists() and not marker.exists()
    assert list((crafted / "bars_1d").glob("ticker=CALM/year=*/*.parquet"))


def test_a_dlt_folder_with_a_quote_is_refused_in_one_line(tmp_path, monkeypatch, capsys) -> None:
    """dlt's DuckDB loader pastes load-file paths into SQL; ours cannot quote them for it."""
    monkeypatch.setenv("INGEST_PIPELINES_DIR", str(tmp_path / HOSTILE))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert main(["brokerage-csv", "--inbox", str(inbox)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "single quote" in line and "INGEST_PIPELINES_DIR" in line


# --- 4. exit codes survive the daily workflow ------------------------------------------------

INGEST_STEP = REPO / ".github" / "scripts" / "ingest-step.sh"


def test_a_bad_interval_is_a_usage_error_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["yfinance", "--tickers", "SPY", "--intervals", "1h"])
    assert exit_.value.code == 2  # before: 1, as if the load had failed
    [line] = capsys.readouterr().err.splitlines()
    assert "unknown interval(s) 1h: choose from 1d, 1m" in line


@pytest.mark.parametrize(
    ("code", "step_code", "annotation"),
    [(0, 0, None), (3, 0, "::warning"), (1, 1, "::error"), (2, 2, "::error"), (4, 4, "::error")],
)
def test_the_workflow_step_passes_a_partial_load_and_fails_on_the_rest(
    code, step_code, annotation
) -> None:
    import subprocess

    result = subprocess.run(
        ["bash", str(INGEST_STEP), "bash", "-c", f"echo loading; exit {code}"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == step_code
    assert result.stdout.startswith("loading")
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert [a.split(" ")[0] for a in annotations] == ([annotation] if annotation else [])
    if annotation:
        assert f"exit {code}" in annotations[0]


def test_the_daily_workflow_runs_the_cli_through_the_step_script_and_then_builds() -> None:
    import yaml

    workflow = yaml.safe_load((REPO / ".github/workflows/daily-load.yml").read_text())
    steps = workflow["jobs"]["load"]["steps"]
    names = [s.get("name", "") for s in steps]
    [ingest_step] = [s for s in steps if s.get("name", "").startswith("Ingest")]
    command = ingest_step["run"].split()
    # before: `make ingest`, whose exit 2 for every failure never matched the script's 3
    assert command[:2] == [".github/scripts/ingest-step.sh", ".venv/bin/python"]
    assert "make" not in command
    later = names[names.index(ingest_step["name"]) + 1 :]
    assert any("dbt build" in n for n in later) and any("freshness" in n.lower() for n in later)
    for step in steps[names.index(ingest_step["name"]) + 1 :]:
        assert "always()" not in str(step.get("if", ""))  # a failed load stops the job
    assert INGEST_STEP.stat().st_mode & 0o111  # executable, as the workflow calls it


def test_the_step_script_runs_the_real_cli_and_keeps_its_code(tmp_path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        ["bash", str(INGEST_STEP), sys.executable, "-m", "ingest", "yfinance", "--intervals", "1h"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "::error title=bad command line" in result.stdout

"""Issue 19, items 8 and 9: real and sample data never share a file, one writer for a whole
run (ingest, dbt, reports), and `ingest check` finds a damaged file.

Each test failed on the code before its fix (see the comments marked `before:`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from ingest.cli import main
from ingest.config import resolve_warehouse

REPO = Path(__file__).resolve().parents[1]
SAMPLE = ["sample", "--as-of", "2025-12-31", "--tickers", "SPY", "--daily-years", "1",
          "--minute-sessions", "1"]  # fmt: skip
# A first sample load is partial (exit 3): its broker export plants cells that do not parse.
SAMPLE_LOADED = 3
HEADER = "transaction_id,account_id,executed_at,ticker,action,quantity,price,fees,amount,currency\n"


def sql(query: str) -> list[tuple]:
    with duckdb.connect(str(resolve_warehouse().path), read_only=True) as con:
        return con.execute(query).fetchall()


def real_inbox(folder: Path) -> Path:
    """A broker export: real data, as far as the warehouse can tell."""
    folder.mkdir()
    (folder / "transactions.csv").write_text(
        HEADER + "T-1,ACC-1,2025-12-26T15:20:54Z,KO,buy,1,10,0,-10,USD\n"
    )
    return folder


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- item 8: sample and real data never share a file --------------------------------------


def test_a_sample_warehouse_refuses_real_data_and_loses_nothing(tmp_path, capsys) -> None:
    assert main(SAMPLE) == SAMPLE_LOADED
    before = sql("select count(*) from raw_ingest.runs union all select count(*) from "
                 "raw_brokerage.transactions")  # fmt: skip
    capsys.readouterr()

    code = main(["brokerage-csv", "--inbox", str(real_inbox(tmp_path / "inbox"))])

    assert code == 1  # before: 0, the broker's rows merged into the sample's
    line = one_line(capsys.readouterr().err)
    assert "holds sample data and this is a real load" in line
    assert "--mix-sample-and-real" in line
    after = sql("select count(*) from raw_ingest.runs union all select count(*) from "
                "raw_brokerage.transactions")  # fmt: skip
    assert after == before  # refused before anything was written, not even an audit row
    assert sql("select kind from raw_ingest.data_kinds") == [("sample",)]


def test_a_real_warehouse_refuses_the_sample_unless_asked(tmp_path, capsys) -> None:
    assert main(["brokerage-csv", "--inbox", str(real_inbox(tmp_path / "inbox"))]) == 0
    assert main(SAMPLE) == 1  # before: 0
    assert "holds real data and this is a sample load" in capsys.readouterr().err
    assert sql("select count(*) from duckdb_tables() where schema_name = 'raw_yfinance'") == [(0,)]
    assert main([*SAMPLE, "--mix-sample-and-real"]) == SAMPLE_LOADED
    assert sql("select kind from raw_ingest.data_kinds order by 1") == [("real",), ("sample",)]
    assert sql("select count(*) > 0 from raw_yfinance.bars_1d") == [(True,)]


def test_a_warehouse_from_before_the_marker_is_known_by_its_audit_rows(tmp_path, capsys) -> None:
    assert main(SAMPLE) == SAMPLE_LOADED
    with duckdb.connect(str(resolve_warehouse().path)) as con:
        con.execute("drop table raw_ingest.data_kinds")  # as an older version left it
    assert main(["brokerage-csv", "--inbox", str(real_inbox(tmp_path / "inbox"))]) == 1
    assert "holds sample data" in capsys.readouterr().err


def test_the_mock_broker_is_sample_data(market) -> None:
    from sampleworld.brokerage import generate_brokerage
    from sampleworld.mock_broker import MockBroker, serve

    assert main(SAMPLE) == SAMPLE_LOADED
    accounts, transactions = generate_brokerage(market)
    os.environ["SOURCES__BROKERAGE_API__TOKEN"] = "t0ken-for-the-mock"
    try:
        with serve(
            MockBroker(accounts, transactions.slice(0, 3), token="t0ken-for-the-mock")
        ) as url:
            assert main(["brokerage-api", "--base-url", url]) == 1  # real by default
            assert main(["brokerage-api", "--sample", "--base-url", url]) == 0
    finally:
        del os.environ["SOURCES__BROKERAGE_API__TOKEN"]


def make_dry_run(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("WAREHOUSE_PATH", "MAKEFLAGS")}
    result = subprocess.run(["make", "-n", *args], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_keeps_the_demo_and_the_real_load_in_different_files() -> None:
    sample_file = f"{REPO}/data/sample/warehouse.duckdb"
    demo = make_dry_run("demo")
    # before: every step wrote data/warehouse.duckdb, the file `make ingest` loads too
    assert f"WAREHOUSE_PATH={sample_file} {REPO}/.venv/bin/python -m ingest sample" in demo
    assert "ingest brokerage-api --sample" in demo
    assert "with-lock -- " in demo and sample_file in demo
    ingest = make_dry_run("ingest")
    assert "-m ingest yfinance" in ingest and "sample" not in ingest
    # the reports read the file WAREHOUSE_PATH names: the real one, the sample's with SAMPLE=1
    reports = "EVIDENCE_SOURCE__warehouse__filename := ../../../data/"
    assert f"{reports}warehouse.duckdb" in make_dry_run("-p", "reports")
    assert f"{reports}sample/warehouse.duckdb" in make_dry_run("-p", "reports", "SAMPLE=1")


# --- item 9: one writer for a whole run ------------------------------------------------------

# Runs the real CLI with run_source patched to wait (marker file, then 6 s) before loading: a
# moment inside a run when no DuckDB connection is open, as during dbt's parse phase.
PAUSED_INGEST = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import ingest.runner

    original = ingest.runner.run_source

    def paused(*args, **kwargs):
        Path(sys.argv[1]).write_text("paused")
        time.sleep(6)
        return original(*args, **kwargs)

    ingest.runner.run_source = paused
    from ingest.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


def second_writer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ingest", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_a_second_writer_is_refused_between_the_first_ones_connections(tmp_path) -> None:
    marker = tmp_path / "marker"
    first = subprocess.Popen(
        [sys.executable, "-c", PAUSED_INGEST, str(marker), *SAMPLE],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(marker, first)
    second = second_writer(*SAMPLE)
    check = second_writer("check")
    assert first.wait(timeout=120) == SAMPLE_LOADED, first.communicate()
    # before: both ran (0), as no DuckDB connection was open at that moment
    assert second.returncode == 1, second.stderr
    line = one_line(second.stderr)
    assert f"is locked by process {first.pid} (ingest sample)" in line
    assert check.returncode == 1 and "is locked by" in one_line(check.stderr)


def test_with_lock_holds_the_lock_for_the_whole_command(tmp_path) -> None:
    assert main(SAMPLE) == SAMPLE_LOADED
    marker = tmp_path / "marker"
    # stands in for `dbt build` while it parses: running, the file not opened yet
    parsing = f"import pathlib, time; pathlib.Path({str(marker)!r}).write_text('x'); time.sleep(6)"
    first = subprocess.Popen(
        [sys.executable, "-m", "ingest", "with-lock", "--", sys.executable, "-c", parsing],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(marker, first)
    second = second_writer(*SAMPLE)
    nested_ok = subprocess.run(
        [sys.executable, "-m", "ingest", "with-lock", "--", "bash", "-c", "exit 7"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert first.wait(timeout=60) == 0
    assert second.returncode == 1
    assert f"is locked by process {first.pid} (python" in one_line(second.stderr)
    assert nested_ok.returncode == 1 and "is locked by" in nested_ok.stderr
    # afterwards: free again; the command's own exit code is passed through
    assert second_writer("with-lock", "--", "bash", "-c", "exit 7").returncode == 7
    # an ingest command run under with-lock uses the lock it inherited
    inherited = second_writer("with-lock", "--", sys.executable, "-m", "ingest", "check")
    assert inherited.returncode == 0, inherited.stderr


def test_with_lock_needs_a_command_and_an_existing_warehouse(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["with-lock"])
    assert exit_.value.code == 2
    capsys.readouterr()
    assert main(["with-lock", "--", "true"]) == 1
    assert "does not exist" in one_line(capsys.readouterr().err)


def corrupt(path: Path, offset: int) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(bytes(range(256)) * 32)  # 8 KiB of garbage over whatever was there


@pytest.mark.parametrize("where", ["data block", "header"])
def test_check_finds_a_damaged_file(where, capsys) -> None:
    path = resolve_warehouse().path
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_yfinance")
        con.execute("create table raw_yfinance.bars_1d as select range as i, random() as r, "
                    "'t' || range as s from range(1000000)")  # fmt: skip
    assert main(["check"]) == 0
    assert "is ready" in capsys.readouterr().err
    corrupt(path, path.stat().st_size // 2 if where == "data block" else 4096)

    assert main(["check"]) == 1  # before: 0, "ready"
    line = one_line(capsys.readouterr().err)
    assert f"warehouse {path} is corrupted" in line and "checksum" in line

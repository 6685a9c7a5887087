"""Ingest survives the real world: killed mid-load, a second writer, overlapping reloads.

Faults are injected from a wrapper process that patches dlt before running the real CLI, so
the production code carries no test hooks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.pipeline import REPO, ingest, query, warehouse_env

SAMPLE = ["sample", "--as-of", "2025-12-31", "--tickers", "SPY,KO,MSFT", "--daily-years", "1",
          "--minute-sessions", "5"]  # fmt: skip
TABLES = ["raw_yfinance.bars_1m", "raw_yfinance.bars_1d", "raw_yfinance.tickers",
          "raw_brokerage.accounts", "raw_brokerage.transactions"]  # fmt: skip

pytestmark = pytest.mark.e2e

# Runs the real CLI after patching dlt's DuckDB load job: `kill` dies with SIGKILL when the
# second bar file of the market pipeline is being copied in (some tables loaded, others not);
# `kill-after-copy` dies right after the first bar file's copy committed, before dlt marks the
# job done (the resumed package copies it again: a race the plain kill hits now and then);
# `pause` writes a marker file and sleeps inside the first copy, holding the warehouse open.
WRAPPER = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob

    mode, marker = sys.argv[1], Path(sys.argv[2])
    original = DuckDbCopyJob.run
    started = []

    def run(self):
        if "bars_" in self._file_path and self._job_client.schema.name == "market_data":
            started.append(self._file_path)
            if mode == "kill" and len(started) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            if mode == "kill-after-copy":
                result = original(self)
                os.kill(os.getpid(), signal.SIGKILL)
            if mode == "pause" and len(started) == 1:
                marker.write_text(str(os.getpid()))
                time.sleep(8)
        return original(self)

    DuckDbCopyJob.run = run
    from ingest.cli import main
    sys.exit(main(sys.argv[3:]))
    """
)


def counts(env: dict[str, str]) -> dict[str, int]:
    """Rows per raw table; 0 for a table a killed run never created."""
    existing = {
        f"{schema}.{table}"
        for schema, table in query(
            env, "select table_schema, table_name from information_schema.tables"
        )
    }
    return {
        t: query(env, f"select count(*) from {t}")[0][0] if t in existing else 0 for t in TABLES
    }


def faulty_ingest(env: dict[str, str], mode: str, marker: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRAPPER, mode, str(marker), *SAMPLE],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, int]:
    """Row counts of one clean load of the same sample."""
    env = warehouse_env(tmp_path_factory.mktemp("reference"))
    ingest(env, *SAMPLE)
    return counts(env)


@pytest.mark.parametrize("mode", ["kill", "kill-after-copy"])
def test_killed_mid_load_then_rerun_loses_nothing_and_doubles_nothing(
    tmp_path, reference, mode
) -> None:
    env = warehouse_env(tmp_path)
    killed = faulty_ingest(env, mode, tmp_path / "marker")
    killed.wait(timeout=300)
    assert killed.returncode == -9, killed.stderr
    partial = counts(env) if Path(env["WAREHOUSE_PATH"]).exists() else {}
    assert partial != reference  # the kill really interrupted the load

    output = ingest(env, *SAMPLE)
    assert "finishing the load packages of an interrupted run" in output
    assert counts(env) == reference
    for table, key in [("bars_1m", "ticker, ts"), ("bars_1d", "ticker, trade_date")]:
        assert query(
            env, f"select count(*) - count(distinct ({key})) from raw_yfinance.{table}"
        ) == [(0,)], table


def test_a_second_writer_during_a_load_gets_a_clear_error(tmp_path, reference) -> None:
    env = warehouse_env(tmp_path)
    marker = tmp_path / "marker"
    first = faulty_ingest(env, "pause", marker)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert first.poll() is None, first.stderr.read()
        assert time.monotonic() < deadline, "the first load never reached its load step"
        time.sleep(0.05)
    second = subprocess.run(
        [sys.executable, "-m", "ingest", *SAMPLE], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert second.returncode == 1
    assert f"is locked by process {marker.read_text()}" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    assert first.wait(timeout=300) == 3, first.stderr.read()  # partial: the planted bad cells
    assert counts(env) == reference  # the file is sound and complete


def test_overlapping_reloads_leave_counts_unchanged(tmp_path, reference) -> None:
    env = warehouse_env(tmp_path)
    ingest(env, *SAMPLE, "--until", "2025-12-29")
    ingest(env, *SAMPLE, "--until", "2025-12-30")  # overlaps the watermark by 5 days
    ingest(env, *SAMPLE)
    ingest(env, *SAMPLE)
    after = counts(env)
    assert after["raw_yfinance.bars_1m"] == reference["raw_yfinance.bars_1m"]
    assert after["raw_yfinance.bars_1d"] == reference["raw_yfinance.bars_1d"]
    assert query(env, "select count(*) from raw_ingest.runs where pipeline = 'sample_market'") == [
        (4,)
    ]

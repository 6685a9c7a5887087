"""Issue 19, item 10: a full disk ends a load with one line (which file, how much room, that
nothing is lost), not 300 lines of dlt's retried tracebacks, and the next run loads
everything, its audit row and the failed run's included.

The full disk is injected where DuckDB commits (the error DuckDB raises when its WAL cannot
grow, as measured on a 2 MB tmpfs), so the test needs no small filesystem and no root."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingest.disk_full import NoSpace, describe, find_no_space
from tests.pipeline import REPO, query, warehouse_env

HEADER = "transaction_id,account_id,executed_at,ticker,action,quantity,price,fees,amount,currency\n"

# Runs the real CLI with every DuckDB commit failing as on a full disk: DuckDB has rolled the
# transaction back and says which file it could not write.
FULL_DISK = textwrap.dedent(
    """
    import os, sys
    import duckdb
    from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

    def commit_transaction(self):
        self._conn.rollback()
        raise duckdb.TransactionException(
            "TransactionContext Error: Failed to commit: Could not write file "
            f'"{os.environ["WAREHOUSE_PATH"]}.wal": No space left on device'
        )

    DuckDbSqlClient.commit_transaction = commit_transaction
    from ingest.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def test_a_full_disk_is_found_anywhere_in_the_chain_with_its_file() -> None:
    class StepFailed(Exception):  # dlt's PipelineStepFailed keeps its cause in .exception
        def __init__(self, exception: BaseException) -> None:
            super().__init__("Pipeline execution failed at step=load")
            self.exception = exception

    duck = Exception('Failed to commit: Could not write file "/d/w.duckdb.wal": No space left')
    duck.args = (f"{duck.args[0]} on device",)
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")  # no file named
        except OSError as nameless:
            raise StepFailed(duck) from nameless
    except StepFailed as wrapped:
        assert find_no_space(wrapped) == NoSpace(Path("/d/w.duckdb.wal"))  # the named one
    assert find_no_space(OSError(errno.ENOSPC, "full", "/d/x.parquet")) == NoSpace(
        Path("/d/x.parquet")
    )
    assert find_no_space(StepFailed(OSError(errno.EACCES, "denied"))) is None
    assert find_no_space(RuntimeError("disk is fine")) is None


def test_the_disk_full_line_names_the_room_left_and_what_waits(tmp_path) -> None:
    waiting = tmp_path / "dlt" / "brokerage_csv"
    (waiting / "load" / "normalized").mkdir(parents=True)
    (waiting / "load" / "normalized" / "rows.parquet").write_bytes(b"x" * 3 * 1024)
    line = describe(
        NoSpace(tmp_path / "w.duckdb.wal"), folders={"warehouse": tmp_path}, pending=waiting
    )
    assert line.startswith(f"disk full: could not write {tmp_path / 'w.duckdb.wal'} (")
    assert f"free in {tmp_path}; the load waiting holds 3.0 KB)" in line
    assert line.endswith(f"nothing was lost: the load waits in {waiting} and the next run "
                         "finishes it once there is room")  # fmt: skip
    nameless = describe(NoSpace(None), folders={"dlt's working folder": tmp_path},
                        audit_waiting=False)  # fmt: skip
    assert "could not write a file (" in nameless and "(dlt's working folder)" in nameless
    assert nameless.endswith("only this run's audit row could not be written")
    assert "\n" not in line + nameless


@pytest.mark.e2e
def test_a_load_on_a_full_disk_says_so_in_one_line_and_the_next_run_loads_it_all(
    tmp_path,
) -> None:
    env = warehouse_env(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "transactions.csv").write_text(
        HEADER
        + "T-1,ACC-1,2025-12-26T15:20:54Z,KO,buy,1,10,0,-10,USD\n"
        + "T-2,ACC-1,2025-12-29T15:20:54Z,KO,sell,1,11,0,11,USD\n"
    )
    command = ["brokerage-csv", "--inbox", str(inbox)]
    full = subprocess.run(
        [sys.executable, "-c", FULL_DISK, *command], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert full.returncode == 1, full.stderr
    # before: 100+ lines of dlt's tracebacks (each job retried five times), then a
    # multi-line 'unexpected PipelineStepFailed' about the audit pipeline
    [line] = full.stderr.splitlines()
    wal = f"{env['WAREHOUSE_PATH']}.wal"
    assert line.startswith(f"error: disk full: could not write {wal} ("), line
    assert "the load waiting holds" in line
    assert line.endswith(
        f"nothing was lost: the load waits in {tmp_path / 'dlt' / 'brokerage_csv'} and the "
        "next run finishes it once there is room"
    )

    rerun = subprocess.run(
        [sys.executable, "-m", "ingest", *command], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert query(env, "select transaction_id from raw_brokerage.transactions order by 1") == [
        ("T-1",),
        ("T-2",),
    ]
    # both audit rows: the failed run's waited in its package; before, dlt loaded that one
    # and dropped the rerun's own row (a run with pending packages ignores new data)
    runs = query(env, "select status, rows_written, error from raw_ingest.runs order by started_at")
    assert [(status, written) for status, written, _ in runs] == [("failed", 0), ("success", 2)]
    assert "No space left on device" in runs[0][2]

"""Issue 19, item 5: a corrected export can remove a row, and an operator can remove or
supersede a transaction; both keep the row's lineage and leave an audit row.

Before: a re-sent file without a transaction left that row live in raw and the marts, still
pointing at a line that no longer existed, and nothing could retire it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest.cli import main
from tests.pipeline import dbt, query, warehouse_env

HEADER = "transaction_id,account_id,executed_at,ticker,action,quantity,price,fees,amount,currency\n"
LINES = {
    "T-1": "T-1,ACC-1,2025-12-26T15:20:54Z,KO,buy,1,10,0,-10,USD\n",
    "T-2": "T-2,ACC-1,2025-12-26T15:21:54Z,KO,buy,2,10,0,-20,USD\n",
    "T-3": "T-3,ACC-1,2025-12-26T15:22:54Z,KO,buy,3,10,0,-30,USD\n",
    "T-4": "T-4,ACC-1,2025-12-29T15:22:54Z,KO,buy,3,10,0,-30,USD\n",
}


def export(inbox: Path, name: str, *ids: str) -> None:
    inbox.mkdir(exist_ok=True)
    (inbox / name).write_text(HEADER + "".join(LINES[i] for i in ids))


def raw(env: dict[str, str] | None = None) -> dict[str, tuple]:
    import os

    path = (env or os.environ)["WAREHOUSE_PATH"]
    with duckdb.connect(path, read_only=True) as con:
        rows = con.execute(
            "select transaction_id, source_file, source_line, retired_at is not null, "
            "retired_reason from raw_brokerage.transactions"
        ).fetchall()
    return {i: rest for i, *rest in [(r[0], *r[1:]) for r in rows]}


def runs() -> list[tuple]:
    import os

    with duckdb.connect(os.environ["WAREHOUSE_PATH"], read_only=True) as con:
        return con.execute(
            "select run_id, pipeline, source, status, tickers_requested, rows_written "
            "from raw_ingest.runs order by started_at"
        ).fetchall()


def test_a_re_sent_export_retires_the_rows_it_no_longer_holds(tmp_path, capsys) -> None:
    inbox = tmp_path / "inbox"
    export(inbox, "a.csv", "T-1", "T-2", "T-3")
    assert main(["brokerage-csv", "--inbox", str(inbox)]) == 0
    # the broker corrects a.csv: T-2 was never booked; T-3 moved to a new file of the same run
    export(inbox, "a.csv", "T-1")
    export(inbox, "b.csv", "T-3", "T-4")
    capsys.readouterr()

    assert main(["brokerage-csv", "--inbox", str(inbox)]) == 0

    assert "a.csv: re-sent without T-2: retired" in capsys.readouterr().err
    rows = raw()
    assert rows["T-1"] == ["a.csv", 2, False, None]
    assert rows["T-3"] == ["b.csv", 2, False, None]  # delivered again elsewhere: live
    file, line, retired, reason = rows["T-2"]  # before: live, at a line a.csv no longer has
    assert (file, line, retired) == ("a.csv", 3, True)  # its lineage kept
    second_run = runs()[-1][0]
    assert reason == (
        f"missing from a.csv as re-sent (run {second_run}): the broker's corrected export "
        "no longer holds it"
    )
    # unchanged files are not read again, so nothing more is retired; a later version that
    # holds T-2 again brings it back
    assert main(["brokerage-csv", "--inbox", str(inbox)]) == 0
    assert raw()["T-2"][2] is True
    export(inbox, "a.csv", "T-1", "T-2")
    assert main(["brokerage-csv", "--inbox", str(inbox)]) == 0
    assert raw()["T-2"] == ["a.csv", 3, False, None]


def test_brokerage_retire_removes_or_supersedes_and_is_audited(tmp_path, capsys) -> None:
    inbox = tmp_path / "inbox"
    export(inbox, "a.csv", "T-1", "T-2", "T-3")
    assert main(["brokerage-csv", "--inbox", str(inbox)]) == 0

    assert main(["brokerage-retire", "T-1", "--reason", "booked twice"]) == 0
    assert main(["brokerage-retire", "T-2", "--superseded-by", "T-3", "--reason", "re-booked"]) == 0

    rows = raw()
    removed, superseded = runs()[1][0], runs()[2][0]
    by_hand = "by brokerage-retire (run"
    assert rows["T-1"] == ["a.csv", 2, True, f"removed {by_hand} {removed}): booked twice"]
    assert rows["T-2"] == [
        "a.csv",
        3,
        True,
        f"superseded by T-3 {by_hand} {superseded}): re-booked",
    ]
    assert rows["T-3"][2] is False
    assert [r[1:] for r in runs()[1:]] == [
        ("brokerage_retire", "operator", "success", 1, 1),
        ("brokerage_retire", "operator", "success", 1, 1),
    ]
    capsys.readouterr()
    # unknown, already retired, or a superseding id that is not live: one line, nothing written
    for args in (["T-9"], ["T-1"], ["T-3", "--superseded-by", "T-2"]):
        assert main(["brokerage-retire", *args, "--reason", "x"]) == 1
        [line] = capsys.readouterr().err.splitlines()
        assert "no live transaction" in line and "nothing changed" in line
    assert len(runs()) == 3
    with pytest.raises(SystemExit) as exit_:
        main(["brokerage-retire", "T-3"])  # a reason is required
    assert exit_.value.code == 2


@pytest.mark.e2e
def test_staging_reads_only_live_rows(tmp_path) -> None:
    env = warehouse_env(tmp_path)
    import subprocess
    import sys

    from tests.pipeline import REPO

    inbox = tmp_path / "inbox"
    export(inbox, "a.csv", "T-1", "T-2", "T-3")

    def ingest(*args: str) -> None:
        result = subprocess.run([sys.executable, "-m", "ingest", *args], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=300)  # fmt: skip
        assert result.returncode == 0, result.stderr

    ingest("brokerage-csv", "--inbox", str(inbox))
    export(inbox, "a.csv", "T-1", "T-3")
    ingest("brokerage-csv", "--inbox", str(inbox))
    ingest("brokerage-retire", "T-3", "--reason", "test")
    dbt(env, "run", "--select", "stg_brokerage__transactions")
    staged = query(env, "select transaction_id from staging.stg_brokerage__transactions")
    assert staged == [("T-1",)]  # before: T-1, T-2 and T-3
    assert len(raw(env)) == 3  # raw keeps all three

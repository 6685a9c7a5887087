"""Broker CSV exports from an inbox: loaded once, overlaps merged, malformed files rejected
with a reason while the others load, bad values kept for dbt."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ingest.audit import EXIT_NOTHING_LOADED, EXIT_OK, EXIT_PARTIAL, RunReport
from ingest.brokerage.inbox import brokerage_csv
from ingest.cli import main
from ingest.config import RAW_BROKERAGE, resolve_warehouse
from ingest.runner import run_source

HEADER = "transaction_id,account_id,executed_at,ticker,action,quantity,price,fees,amount,currency\n"
ACCOUNTS = (
    "account_id,account_name,base_currency,opened_at\nACC-1,Individual,USD,2025-01-02T14:30:00Z\n"
)
JANUARY = (
    HEADER
    + "T1,ACC-1,2025-01-02T15:00:00Z,,deposit,,,,10000,USD\n"
    + "T2,ACC-1,2025-01-03T10:15:00-05:00,SPY,buy,10,500.12,1,-5002.2,USD\n"
    + "T3,ACC-1,2025-01-30T16:00:00Z,SPY,sell,4,510,1,2039,USD\n"
)
# The next export repeats January's last days: T3 again, as it was.
FEBRUARY = (
    HEADER
    + "T3,ACC-1,2025-01-30T16:00:00Z,SPY,sell,4,510,1,2039,USD\n"
    + "T4,ACC-1,2025-02-03T15:00:00Z,KO,buy,5,60.5,0,-302.5,USD\n"
    + "T5,ACC-1,2025-02-04T15:00:00Z,,fee,,,25,-25,USD\n"
)


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def load(inbox: Path) -> RunReport:
    report = RunReport(pipeline="test_brokerage_csv", source="csv")
    return run_source(
        resolve_warehouse(),
        report,
        brokerage_csv(inbox, report),
        pipeline_name="test_brokerage_csv",
        dataset=RAW_BROKERAGE,
    )


def sql(query: str) -> list[tuple]:
    with duckdb.connect(str(resolve_warehouse().path), read_only=True) as con:
        return con.execute(query).fetchall()


def counts() -> tuple[int, int, int]:
    """(transactions, distinct transaction ids, accounts) in raw."""
    ((rows, ids),) = sql(
        "select count(*), count(distinct transaction_id) from raw_brokerage.transactions"
    )
    return rows, ids, sql("select count(*) from raw_brokerage.accounts")[0][0]


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    write(folder, "accounts.csv", ACCOUNTS)
    write(folder, "2025/transactions_2025-01.csv", JANUARY)
    write(folder, "2025/transactions_2025-02.csv", FEBRUARY)
    return folder


def test_same_files_twice_and_overlapping_files_leave_no_duplicate_keys(inbox: Path) -> None:
    first = load(inbox)
    assert first.exit_code == EXIT_OK
    assert first.rows_received == 1 + 3 + 3
    assert first.duplicates_removed == 1  # T3, in both exports
    assert counts() == (5, 5, 1)
    assert sql(
        "select source_file, source_line, conflicting_versions from raw_brokerage.transactions "
        "where transaction_id = 'T3'"
    ) == [("2025/transactions_2025-02.csv", 2, 0)]
    load_ids = sql("select distinct _dlt_load_id from raw_brokerage.transactions")

    second = load(inbox)
    assert second.exit_code == EXIT_OK
    assert (second.items_requested, second.rows_received, second.rows_written) == ([], 0, 0)
    assert counts() == (5, 5, 1)
    assert sql("select distinct _dlt_load_id from raw_brokerage.transactions") == load_ids
    assert [r[0] for r in sql("select status from raw_ingest.runs")] == ["success", "success"]


def test_a_later_overlapping_export_merges_instead_of_doubling(inbox: Path) -> None:
    load(inbox)
    write(inbox, "2025/transactions_2025-03.csv", FEBRUARY.replace("T5,", "T6,"))
    report = load(inbox)
    assert report.items_requested == ["2025/transactions_2025-03.csv"]
    assert report.duplicates_removed == 0  # T3 and T4 merge in the warehouse, not in the file
    assert counts() == (6, 6, 1)


def test_a_changed_file_is_read_again_and_restates_its_rows(inbox: Path) -> None:
    load(inbox)
    write(inbox, "2025/transactions_2025-02.csv", FEBRUARY.replace("60.5,0,-302.5", "60.4,0,-302"))
    report = load(inbox)
    assert report.items_requested == ["2025/transactions_2025-02.csv"]
    assert counts() == (5, 5, 1)
    assert sql(
        "select price::varchar, amount::varchar from raw_brokerage.transactions "
        "where transaction_id = 'T4'"
    ) == [("60.400000", "-302.0000")]


MALFORMED = {
    "wrong_header.csv": (
        HEADER.replace("executed_at", "trade_date") + "X1,ACC-1,2025-01-05,,x,,,,1,USD\n"
    ),
    "latin1.csv": (HEADER + "X2,ACC-1,2025-01-05T15:00:00Z,,deposit,,,,1,USD,\n")
    .encode()
    .replace(b"deposit,,,,1,USD,", "dépôt,,,,1,USD".encode("latin-1")),
    "truncated.csv": HEADER + "X3,ACC-1,2025-01-05T15:00:00Z,SPY,buy,1,5",
    "short_row.csv": HEADER + "X4,ACC-1,2025-01-05T15:00:00Z,SPY\nX5,ACC-1,,,,,,,,\n",
    "open_quote.csv": HEADER + 'X6,ACC-1,2025-01-05T15:00:00Z,"SPY,buy,1,5,0,-5,USD\n',
    "empty.csv": b"",
    "accounts_extra.csv": "account_id,account_name,base_currency,opened_at,iban\n",
}
REASONS = {
    "wrong_header.csv": "wrong header for a transactions export: missing executed_at; "
    "unexpected trade_date",
    "latin1.csv": "not UTF-8: byte 0xe9",
    "truncated.csv": "truncated: the last line has no line break",
    "short_row.csv": "line 2 has 4 fields, the header 10 (truncated or malformed)",
    "open_quote.csv": "malformed CSV at line",
    "empty.csv": "empty file",
    "accounts_extra.csv": "wrong header for a accounts export: unexpected iban",
}


def test_malformed_files_are_rejected_with_a_reason_and_the_others_load(inbox: Path) -> None:
    for name, content in MALFORMED.items():
        write(inbox, f"bad/{name}", content)
    report = load(inbox)
    assert report.exit_code == EXIT_PARTIAL
    assert counts() == (5, 5, 1)
    failed = {name.removeprefix("bad/"): reason for name, reason in report.items_failed.items()}
    assert set(failed) == set(MALFORMED)
    for name, expected in REASONS.items():
        assert failed[name].startswith("rejected: "), failed[name]
        assert expected in failed[name], failed[name]
    ((status, audited),) = sql("select status, tickers_failed from raw_ingest.runs")
    assert status == "partial"
    assert {item["ticker"] for item in json.loads(audited)} == {f"bad/{n}" for n in MALFORMED}

    again = load(inbox)  # nothing new but the rejected files: reported again, nothing loaded
    assert again.exit_code == EXIT_NOTHING_LOADED
    assert len(again.items_failed) == len(MALFORMED)

    write(
        inbox, "bad/truncated.csv", HEADER + "X3,ACC-1,2025-01-05T15:00:00Z,SPY,buy,1,5,0,-5,USD\n"
    )
    fixed = load(inbox)
    assert "bad/truncated.csv" in fixed.items_loaded
    assert counts() == (6, 6, 1)


def test_bad_values_are_kept_in_raw_with_the_text_that_did_not_parse(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write(
        inbox,
        "transactions.csv",
        HEADER
        + "B1,ACC-1,12/26/2025 10:20 AM,SPY,buy,1,500,0,-500,USD\n"  # a spreadsheet's time
        + "B2,ACC-1,2025-12-26T10:20:00,SPY,buy,1,500,0,-500,USD\n"  # no zone: ambiguous
        + "B3,ACC-1,2025-12-26T15:20:00Z,SPY,buy,-5,500,0,2500,EUR\n"  # negative, wrong currency
        + 'B4,ACC-1,2025-12-26T15:20:00Z,SPY,transfer_in,1e3,"1,000.5",0,-1,USD\n'
        + ",ACC-1,2025-12-26T15:20:00Z,SPY,buy,1,500,0,-500,USD\n",  # no id: cannot be merged
    )
    report = load(inbox)
    assert report.exit_code == EXIT_PARTIAL
    assert report.items_loaded == ["transactions.csv"]
    assert report.items_failed == {"transactions.csv line 6": "no transaction_id: row skipped"}
    rows = {
        r[0]: r[1:]
        for r in sql(
            "select transaction_id, executed_at, action, quantity::varchar, price::varchar, "
            "currency, unparsed_values from raw_brokerage.transactions"
        )
    }
    assert rows["B1"][0] is None
    assert json.loads(rows["B1"][5]) == {"executed_at": "12/26/2025 10:20 AM"}
    assert json.loads(rows["B2"][5]) == {"executed_at": "2025-12-26T10:20:00"}
    assert rows["B3"][2:5] == ("-5.000000", "500.000000", "EUR") and rows["B3"][5] is None
    assert rows["B4"][1:4] == ("transfer_in", "1000.000000", None)
    assert json.loads(rows["B4"][5]) == {"price": "1,000.5"}
    # visible at load time, counted per file and column (B1, B2: executed_at; B4: price)
    assert report.unparsed_cells == {"transactions.csv": {"executed_at": 2, "price": 1}}


def test_cells_that_did_not_parse_make_the_run_partial_and_are_counted(inbox: Path, capsys) -> None:
    """A file whose cells did not parse loads (dbt rejects its rows with reasons), and the
    run says so at once: partial, with the file and a count per column, in the summary line
    and the audit row."""
    write(
        inbox,
        "2025-03.csv",
        HEADER
        + "U1,ACC-1,2025-03-03 10:31:22,SPY,buy,1,500,0,-500,USD\n"  # no offset
        + 'U2,ACC-1,2025-03-04T15:00:00Z,SPY,buy,"2,000.00",500,0,-500,USD\n'
        + "U3,ACC-1,2025-03-05,SPY,buy,1,five,0,-500,USD\n"  # a date alone, a word
        + "U4,ACC-1,2025-03-06T15:00:00Z,SPY,buy,1,500,0,-500,USD\n",
    )
    assert main(["brokerage-csv", "--inbox", str(inbox)]) == EXIT_PARTIAL
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("brokerage_csv: partial; 4/4 files loaded, 11 rows received"), line
    assert "failed" not in line
    assert line.endswith(
        "cells that did not parse (rows loaded for dbt to reject): "
        "2025-03.csv (executed_at 2, price 1, quantity 1)"
    ), line
    ((status, kind, loaded, failed, unparsed),) = sql(
        "select status, item_kind, tickers_loaded, tickers_failed, unparsed_cells "
        "from raw_ingest.runs"
    )
    assert (status, kind, loaded, json.loads(failed)) == ("partial", "files", 4, [])
    assert json.loads(unparsed) == [
        {"item": "2025-03.csv", "column": "executed_at", "cells": 2},
        {"item": "2025-03.csv", "column": "price", "cells": 1},
        {"item": "2025-03.csv", "column": "quantity", "cells": 1},
    ]
    assert sql(
        "select count(*) from raw_brokerage.transactions where transaction_id like 'U%'"
    ) == [(4,)]
    # loaded once: the next run has nothing new, and nothing to report
    assert main(["brokerage-csv", "--inbox", str(inbox)]) == EXIT_OK


def test_an_id_twice_in_one_file_with_different_content_is_flagged(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    line = "C1,ACC-1,2025-12-26T15:20:00Z,SPY,buy,{q},500,0,-{a},USD\n"
    write(
        inbox,
        "a.csv",
        HEADER + line.format(q=1, a=500) + line.format(q=1, a=500) + line.format(q=2, a=1000),
    )
    write(inbox, "b.csv", HEADER + line.replace("C1", "C2").format(q=1, a=500))
    write(inbox, "c.csv", HEADER + line.replace("C1", "C2").format(q=3, a=1500))  # a restatement
    report = load(inbox)
    assert report.duplicates_removed == 3
    assert sorted(
        sql(
            "select transaction_id, quantity::varchar, conflicting_versions, source_file "
            "from raw_brokerage.transactions"
        )
    ) == [("C1", "2.000000", 1, "a.csv"), ("C2", "3.000000", 0, "c.csv")]


def test_the_cli_command_exit_codes(inbox: Path, tmp_path: Path, capsys) -> None:
    assert main(["brokerage-csv", "--inbox", str(tmp_path / "nowhere")]) == 1
    assert "is not a folder" in capsys.readouterr().err
    write(inbox, "broken.csv", b"\xff\xfe" + HEADER.encode("utf-16-le"))
    assert main(["brokerage-csv", "--inbox", str(inbox)]) == EXIT_PARTIAL
    err = capsys.readouterr().err
    assert (
        "brokerage_csv: partial; 3/4 files loaded" in err
        and "broken.csv (rejected: not UTF-8" in err
    )


@pytest.mark.parametrize("command", ["brokerage-csv", "brokerage-api"])
def test_the_brokerage_commands_explain_every_option(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    options = ["--inbox DIR"] if command == "brokerage-csv" else ["--base-url URL", "--page-size N"]
    assert all(option in out for option in options)

"""Issue 19, first slice: one bad value never blocks a load, network work is bounded, no SQL is
built from user text, and exit codes survive the daily workflow.

Every test here failed on the code before its fix (the issue's table of cases)."""

from __future__ import annotations

import json

import duckdb
import pytest

from ingest.audit import EXIT_OK
from ingest.brokerage.mock_server import MockBroker, serve
from ingest.brokerage.records import parse_decimal, parse_instant
from ingest.cli import main
from ingest.config import resolve_warehouse

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
    assert code == EXIT_OK, err  # bad values are dbt's to reject, not a failed file
    assert "brokerage_csv: success; 2/2" in err
    rows = unparsed_by_id()
    assert set(rows) == {"T-OK-1", "T-HUGE", "T-OK-2"}
    assert rows["T-HUGE"] == (HUGE, "transactions_a.csv", 3)
    assert rows["T-OK-2"] == (None, "transactions_b.csv", 2)
    assert sql(
        "select quantity, price, fees, amount, executed_at is not null "
        "from raw_brokerage.transactions where transaction_id = 'T-HUGE'"
    ) == [(None, None, None, None, True)]
    assert sql("select status from raw_ingest.runs") == [("success",)]


def test_huge_numbers_from_the_api_are_kept_unparsed(market) -> None:
    from ingest.sample.brokerage import generate_brokerage

    accounts, transactions = generate_brokerage(market)
    broker = MockBroker(accounts, transactions.slice(0, 5), token=TOKEN)
    broker.transactions[2].update(HUGE)
    huge_id = broker.transactions[2]["transaction_id"]
    with serve(broker) as url:
        code = main(["brokerage-api", "--base-url", url])
    assert code == EXIT_OK
    rows = unparsed_by_id()
    assert len(rows) == 5
    assert rows[huge_id][0] == HUGE
    assert [r for i, r in rows.items() if i != huge_id and r[0]] == []


@pytest.fixture(autouse=True)
def _api_token(monkeypatch) -> None:
    monkeypatch.setenv("SOURCES__BROKERAGE_API__TOKEN", TOKEN)

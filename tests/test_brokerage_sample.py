"""The sample's transactions trade the sample market (inside sessions, at prices inside that
minute's range), carry the dirty-data defects on demand, and survive the trip through the
broker CSV exports into raw."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from ingest.brokerage.records import parse_decimal, parse_instant
from ingest.commands.sample import load_sample_brokerage
from ingest.config import resolve_warehouse
from sampleworld.brokerage import (
    EXPORT_DEFECTS,
    TRANSACTION_DEFECTS,
    generate_brokerage,
    write_exports,
)
from sampleworld.market import SampleMarket
from tests.conftest import AS_OF, MINUTE_SESSIONS

EVERYTHING = {"start": date(2000, 1, 1), "end": date(2100, 1, 1)}


@pytest.fixture(scope="module")
def books(market: SampleMarket) -> tuple[pa.Table, pa.Table]:
    return generate_brokerage(market)


def good_trades(transactions: pa.Table) -> pd.DataFrame:
    frame = transactions.to_pandas()
    frame = frame[~frame.transaction_id.str.startswith("BAD-")]
    return frame[frame.action.isin(["buy", "sell"])]


def test_trades_happen_inside_sessions_at_prices_inside_that_minute(market, books) -> None:
    trades = good_trades(books[1])
    sessions = market.daily_sessions.set_index("session_date")
    checked_minutes = 0
    for trade in trades.itertuples():
        at = pd.Timestamp(trade.executed_at)
        day = at.tz_convert("America/New_York").date()
        session = sessions.loc[day]
        assert session.open_at <= at < session.close_at, trade.transaction_id
        price = float(trade.price)
        if day >= market.first_minute_session:
            bars = market.traded_history(trade.ticker, interval="1m", **EVERYTHING)
            bar = bars.loc[at.floor("min").tz_convert("America/New_York")]
            assert bar["Low"] <= price <= bar["High"], trade.transaction_id
            checked_minutes += 1
        else:
            daily = market.traded_history(trade.ticker, interval="1d", **EVERYTHING)
            bar = daily[daily.index.date == day].iloc[0]
            assert bar["Low"] <= price <= bar["High"], trade.transaction_id
    assert checked_minutes >= 3, "the minute window should hold a few trades"
    assert len(trades) > 100


def test_holdings_never_go_short_and_amounts_add_up(books) -> None:
    frame = books[1].to_pandas()
    frame = frame[~frame.transaction_id.str.startswith("BAD-")].sort_values("executed_at")
    held: dict[tuple[str, str], Decimal] = {}
    for row in frame.itertuples():
        key = (row.account_id, row.ticker)
        if row.action in ("buy", "split"):
            held[key] = held.get(key, Decimal(0)) + row.quantity
        elif row.action == "sell":
            held[key] = held.get(key, Decimal(0)) - row.quantity
            assert held[key] >= 0, row.transaction_id
        if row.action == "buy":
            assert row.amount == -(row.quantity * row.price + row.fees)
        if row.action == "sell":
            assert row.amount == row.quantity * row.price - row.fees


def test_defects_are_switchable_and_the_same_seed_gives_the_same_books(market, books) -> None:
    ids = books[1].column("transaction_id").to_pylist()
    assert len(ids) == len(set(ids))
    assert {i for i in ids if i.startswith("BAD-")} == {f"BAD-{d}" for d in TRANSACTION_DEFECTS}
    assert generate_brokerage(market)[1].equals(books[1])
    clean = SampleMarket(
        AS_OF, daily_years=2, minute_sessions=MINUTE_SESSIONS, seed=7, defects=False
    )
    clean_ids = generate_brokerage(clean)[1].column("transaction_id").to_pylist()
    assert not [i for i in clean_ids if i.startswith("BAD-")]
    row = books[1].to_pandas().set_index("transaction_id").loc["BAD-negative_quantity"]
    assert row.quantity < 0


def test_exports_overlap_and_carry_the_file_defects(tmp_path: Path, books) -> None:
    inbox = tmp_path / "inbox"
    files = write_exports(inbox, *books, defects=True)
    names = [f.name for f in files]
    assert names[0] == "accounts.csv" and "transactions_ACC-1001_2025-12.csv" in names
    text = "".join(f.read_text() for f in files if f.name.startswith("transactions_"))
    assert text.count("BAD-conflicting_duplicate,") == 2
    assert text.count("BAD-unparseable_timestamp,") == 1
    lines = text.splitlines()
    assert any(a == b and a.startswith("ACC-1001-") for a, b in itertools.pairwise(lines))
    rows_in_files = sum(1 for line in lines if not line.startswith("transaction_id"))
    assert rows_in_files > books[1].num_rows + 5  # the monthly files overlap

    before = {f: f.stat().st_mtime_ns for f in files}
    stale = inbox / "transactions_OLD_1999-01.csv"
    stale.write_text("old\n")
    write_exports(inbox, *books, defects=True)
    assert not stale.exists()
    assert {f: f.stat().st_mtime_ns for f in files} == before  # unchanged files untouched
    assert not any(
        "BAD-" in f.read_text() for f in write_exports(tmp_path / "clean", *books, defects=False)
        if f.name.startswith("transactions_ACC-1002")
    )  # fmt: skip


def test_the_sample_reaches_raw_through_the_csv_inbox_once(tmp_path: Path, market, books) -> None:
    inbox = tmp_path / "inbox"
    first = load_sample_brokerage(market, resolve_warehouse(), inbox)
    assert first.status == "partial" and first.duplicates_removed > 0
    # partial for the planted zone-less timestamp alone: one cell, in ACC-1001's export
    ((name, cells),) = first.unparsed_cells.items()
    assert name.startswith("transactions_ACC-1001_") and cells == {"executed_at": 1}
    assert not first.items_failed
    second = load_sample_brokerage(market, resolve_warehouse(), inbox)
    assert (second.rows_received, second.rows_written) == (0, 0)

    with duckdb.connect(str(resolve_warehouse().path), read_only=True) as con:
        raw = con.sql("select * exclude (_dlt_load_id) from raw_brokerage.transactions")
        raw = raw.to_arrow_table()
    raw_by_id = {r["transaction_id"]: r for r in raw.to_pylist()}
    export_only = {f"BAD-{d}" for d in EXPORT_DEFECTS if d != "repeated_line"}
    assert set(raw_by_id) == set(books[1].column("transaction_id").to_pylist()) | export_only
    for row in books[1].to_pylist():  # the CSV round trip keeps every value
        loaded = raw_by_id[row["transaction_id"]]
        assert {k: loaded[k] for k in row} == row, row["transaction_id"]
        assert loaded["conflicting_versions"] == 0 and loaded["unparsed_values"] is None
    assert raw_by_id["BAD-conflicting_duplicate"]["conflicting_versions"] == 1
    unparseable = raw_by_id["BAD-unparseable_timestamp"]
    assert unparseable["executed_at"] is None
    assert json.loads(unparseable["unparsed_values"])["executed_at"].endswith(("AM", "PM"))


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2025-12-26T15:20:00Z", datetime.fromisoformat("2025-12-26T15:20:00+00:00")),
        ("2025-12-26 10:20:00.5-05:00", datetime.fromisoformat("2025-12-26T15:20:00.5+00:00")),
        ("2025-12-26T10:20:00", None),
        ("2025-11-31T10:20:00Z", None),
        ("12/26/2025 10:20 AM", None),
    ],
)
def test_instants_need_an_offset(text: str, expected: datetime | None) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize(
    "text,scale,expected",
    [
        ("-1001.245", 4, Decimal("-1001.2450")),
        ("0.123456789", 6, Decimal("0.123457")),
        ("1e3", 6, Decimal("1000.000000")),
        ("1,000.50", 4, None),
        ("NaN", 4, None),
        ("123456789012345", 4, None),  # does not fit decimal(18,4)
    ],
)
def test_decimals_fit_the_contract_or_stay_text(text: str, scale: int, expected) -> None:
    assert parse_decimal(text, scale) == expected


def test_sample_trades_are_not_moved_by_the_defects_switch(market, books) -> None:
    """Defects add rows; they do not move the good ones (the minute a trade picks ignores
    the market's faulty bars either way)."""
    clean = SampleMarket(
        AS_OF, daily_years=2, minute_sessions=MINUTE_SESSIONS, seed=7, defects=False
    )
    good = good_trades(books[1]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        good_trades(generate_brokerage(clean)[1]).reset_index(drop=True), good
    )
    assert timedelta(0) < good.executed_at.diff().max()

"""Brokers' own exports (Schwab, Fidelity, Interactive Brokers' Flex CSV, a mapped CSV)
through the inbox into raw, the
layout judged by content. Expected values are read off the sample files by hand
(tests/data/brokers/), not copied from the code's output."""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ingest.audit import EXIT_OK, EXIT_PARTIAL
from ingest.brokerage import formats
from ingest.brokerage.formats.common import LayoutError, parse_money, parse_us_date
from ingest.cli import main
from tests.test_brokerage_csv import HEADER, load, sql, write

SAMPLES = Path(__file__).parent / "data" / "brokers"
SCHWAB = "Individual_XXX123_Transactions_20261130-101500.csv"
FIDELITY = "Accounts_History_2026-11-30.csv"
IBKR = "Portfolio_sample_20261102_20261120.csv"


def inbox_with(tmp_path: Path, *folders: str) -> Path:
    inbox = tmp_path / "inbox"
    for folder in folders:
        shutil.copytree(SAMPLES / folder, inbox / folder)
    return inbox


def rows_by_line(source_file: str) -> dict[int, tuple]:
    return {
        r[0]: r[1:]
        for r in sql(
            "select source_line, account_id, executed_at, ticker, action, quantity::varchar, "
            "price::varchar, fees::varchar, amount::varchar, currency, unparsed_values, "
            f"transaction_id from raw_brokerage.transactions where source_file = '{source_file}'"
        )
    }


def noon_new_york(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 17, 0, tzinfo=UTC)  # EST in November: UTC-5


def test_a_schwab_export_loads_with_its_own_money_dates_and_actions(tmp_path: Path) -> None:
    report = load(inbox_with(tmp_path, "schwab"))
    # partial, for the one action word below that we do not know: counted at load time
    assert report.exit_code == EXIT_PARTIAL and not report.items_failed
    assert report.unparsed_cells == {f"schwab/{SCHWAB}": {"action": 1}}
    rows = rows_by_line(f"schwab/{SCHWAB}")
    assert sorted(rows) == list(range(2, 17))  # 15 lines below the header, none dropped
    assert {r[0] for r in rows.values()} == {"XXX123"}  # from Schwab's file name
    assert {r[8] for r in rows.values()} == {"USD"}
    # Two identical buys on one day stay two rows, under two ids.
    assert rows[2][1:8] == (noon_new_york(11, 30), "KO", "buy", "10.000000", "61.200000", None,
                            "-612.0000")  # fmt: skip
    assert rows[3][1:8] == rows[2][1:8] and rows[3][10] != rows[2][10]
    # "11/27/2026 as of 11/25/2026": the effective date counts.
    assert rows[4][1:8] == (noon_new_york(11, 25), None, "interest", None, None, None, "0.4200")
    assert rows[5][3:8] == ("dividend", None, None, None, "15.3000")
    assert rows[6][3:8] == ("sell", "2.000000", "410.550000", "0.0300", "821.0700")
    # A reinvestment: the shares bought (a buy) with the dividend paid (a dividend).
    assert rows[7][3:8] == ("buy", "0.021300", "590.100000", None, "-12.5700")
    assert rows[8][3:8] == ("dividend", None, None, None, "12.5700")
    assert rows[9][3:8] == ("buy", "5.000000", "405.000000", "0.6500", "-2025.6500")  # $2,025.65
    assert rows[11][2:8] == ("KO", "withholding_tax", None, None, None, "-2.3000")
    assert rows[12][3:8] == ("fee", None, None, None, "-15.0000")
    assert rows[13][3:8] == ("deposit", None, None, None, "10000.0000")
    assert rows[14][3:8] == ("deposit", None, None, None, "1050.8000")  # MoneyLink Transfer, in
    assert rows[15][3:8] == ("withdrawal", None, None, None, "-500.0000")  # Journal, out
    # A word Schwab uses that we do not know: the row stays, its action unparsed.
    assert rows[16][3] is None
    assert json.loads(rows[16][9]) == {"action": "Exchange or Exercise"}
    assert all(r[9] is None for line, r in rows.items() if line != 16)


def test_a_fidelity_export_loads_past_its_preamble_and_trailer(tmp_path: Path) -> None:
    report = load(inbox_with(tmp_path, "fidelity"))
    assert report.exit_code == EXIT_OK, report.items_failed
    assert sql("select account_id from raw_brokerage.accounts") == [("X12345678",)]
    rows = rows_by_line(f"fidelity/{FIDELITY}")
    assert sorted(rows) == list(range(4, 16))  # two blank lines and the header above
    assert {r[0] for r in rows.values()} == {"X12345678"}  # `"Individual" X12345678`
    assert rows[4][1:8] == (noon_new_york(11, 30), "KO", "buy", "25.000000", "61.200000", None,
                            "-1530.0000")  # fmt: skip
    # Fidelity signs a sale's quantity negative; ours is the shares sold.
    assert rows[5][1:8] == (noon_new_york(11, 27), "MSFT", "sell", "3.000000", "412.500000",
                            "0.0200", "1237.4800")  # fmt: skip
    # A reinvested dividend: the dividend (cash in) and the shares bought with it (a buy).
    assert rows[6][3:8] == ("dividend", None, None, None, "15.3000")
    assert rows[7][3:8] == ("buy", "0.250000", "61.200000", None, "-15.3000")
    assert rows[8][1:8] == (noon_new_york(11, 24), "PG", "dividend", None, None, None, "8.6000")
    assert rows[9][3:8] == ("interest", None, None, None, "0.8700")
    assert rows[10][3:8] == ("withholding_tax", None, None, None, "-1.1200")
    assert rows[11][3:8] == ("buy", "5.000000", "405.000000", "0.6500", "-2025.6500")
    assert rows[12][1:8] == (noon_new_york(11, 18), None, "deposit", None, None, None,
                             "5000.0000")  # fmt: skip
    # Shares received from another broker (ACAT): a transfer in, without a cost basis.
    assert rows[13][2:8] == ("SPY", "transfer_in", "10.000000", None, None, None)
    # A short sale is recognised as one (not a sell), for dbt to reject with that reason.
    assert rows[14][3:5] == ("short_sale", "2.000000")
    assert rows[15][3:8] == ("withdrawal", None, None, None, "-200.0000")
    assert all(r[9] is None for r in rows.values())


def test_a_csv_described_by_a_mapping_file_in_the_inbox_loads(tmp_path: Path) -> None:
    report = load(inbox_with(tmp_path, "mapped"))
    assert report.exit_code == EXIT_OK, report.items_failed
    rows = {r[10]: r[:10] for r in rows_by_line("mapped/examplebank_2026-11.csv").values()}
    assert sorted(rows) == [f"R-100{n}" for n in range(7)]  # the broker's own references
    assert {(r[0], r[8]) for r in rows.values()} == {("EX-1", "USD")}
    # 02.11.2026 10:00:00 in Berlin (UTC+1); "5.000,00" in German.
    assert rows["R-1000"][1:8] == (datetime(2026, 11, 2, 9, 0, tzinfo=UTC), None, "deposit",
                                   None, None, None, "5000.0000")  # fmt: skip
    # Amounts come unsigned: a buy and a fee take cash out, a sale brings it in.
    assert rows["R-1001"][1:8] == (datetime(2026, 11, 3, 15, 5, 31, tzinfo=UTC), "KO", "buy",
                                   "10.000000", "60.800000", "1.5000", "-609.5000")  # fmt: skip
    assert rows["R-1002"][3:8] == ("sell", "4.000000", "62.100000", "1.5000", "246.9000")
    # A date without a time counts at noon in the mapping's zone (11:00 UTC).
    assert rows["R-1003"][1:8] == (datetime(2026, 11, 25, 11, 0, tzinfo=UTC), "KO", "dividend",
                                   None, None, None, "5.1000")  # fmt: skip
    # by_action: withholding tax takes cash out, interest brings it in
    assert rows["R-1004"][3:8:4] == ("withholding_tax", "-0.7700")
    assert rows["R-1005"][3:8:4] == ("interest", "0.3500")
    assert rows["R-1006"][3:8] == ("fee", None, None, None, "-2.0000")


def test_every_layout_in_one_inbox_and_each_file_read_once(tmp_path: Path) -> None:
    inbox = inbox_with(tmp_path, "schwab", "fidelity", "mapped")
    first = load(inbox)
    assert first.exit_code == EXIT_PARTIAL  # Schwab's unknown action word alone
    assert list(first.unparsed_cells) == [f"schwab/{SCHWAB}"] and not first.items_failed
    assert sorted(first.items_loaded) == sorted(
        [f"schwab/{SCHWAB}", f"fidelity/{FIDELITY}", "mapped/examplebank_2026-11.csv",
         "schwab/accounts.csv", "fidelity/accounts.csv", "mapped/accounts.csv"]
    )  # fmt: skip
    assert sql("select count(*) from raw_brokerage.transactions") == [(15 + 12 + 7,)]
    again = load(inbox)
    assert (again.items_requested, again.rows_received) == ([], 0)

    # A changed mapping changes what its CSV means: the CSV is read again.
    mapping = inbox / "mapped" / "examplebank.mapping.toml"
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace('Zinsen = "interest"', "Zinsen = 'deposit'"),
        encoding="utf-8",
    )
    changed = load(inbox)
    assert changed.items_requested == ["mapped/examplebank_2026-11.csv"]
    assert sql("select action from raw_brokerage.transactions where transaction_id = 'R-1005'") == [
        ("deposit",)
    ]


@pytest.mark.parametrize(
    ("name", "text", "layout"),
    [
        (SCHWAB, (SAMPLES / "schwab" / SCHWAB).read_text(encoding="utf-8"), "schwab"),
        (FIDELITY, (SAMPLES / "fidelity" / FIDELITY).read_text(encoding="utf-8"), "fidelity"),
        # Schwab's older exports: a title line above, a total line below.
        (
            "export.csv",
            '"Transactions  for account Individual ...789 as of 11/30/2026 10:15:00 AM ET"\n'
            '"Date","Action","Symbol","Description","Quantity","Price","Fees & Comm","Amount"\n'
            '"11/27/2026","Buy","KO","COCA-COLA CO","1","$61.00","","-$61.00"\n'
            '"Transactions Total","","","","","","","-$61.00",\n',
            "schwab",
        ),
        # Fidelity's single-account export: no Account column, the number in the name.
        (
            "History_for_Account_Z98765432.csv",
            "\n\nRun Date,Action,Symbol,Security Description,Security Type,Quantity,Price ($),"
            "Commission ($),Fees ($),Accrued Interest ($),Amount ($),Settlement Date\n"
            "11/27/2026, YOU BOUGHT KO,KO,COCA-COLA CO,Cash,1,61,,,,-61,11/30/2026\n\n"
            "Date downloaded 11/30/2026 10:15 am\n",
            "fidelity",
        ),
    ],
)
def test_the_layout_is_judged_by_content(name: str, text: str, layout: str) -> None:
    detected = formats.detect(name, text.encode(), [])
    assert detected is not None and detected.layout == layout
    rows = detected.read()
    assert rows and all(row["account_id"] for _, row in rows)
    if name == "export.csv":
        assert [row["account_id"] for _, row in rows] == ["XXX789"]  # from the title line
    if name.startswith("History_for_Account_"):
        assert [row["account_id"] for _, row in rows] == ["Z98765432"]


def test_the_project_csv_is_still_the_project_csv() -> None:
    text = HEADER + "T1,A,2025-01-02T15:00:00Z,,fee,,,1,-1,USD\n"
    assert formats.detect("t.csv", text.encode(), []) is None


def test_an_unknown_layout_is_one_line_and_the_other_files_load(tmp_path: Path) -> None:
    inbox = inbox_with(tmp_path, "schwab")
    write(inbox, "ibkr/activity.csv", "Statement,Header,Field Name,Field Value\n")
    write(inbox, "schwab/Transactions_20261130.csv", (SAMPLES / "schwab" / SCHWAB).read_text())
    write(
        inbox,
        "schwab/cut_XXX123_Transactions_1.csv",
        (SAMPLES / "schwab" / SCHWAB).read_text()[:-1],
    )
    report = load(inbox)
    assert report.exit_code == EXIT_PARTIAL
    assert f"schwab/{SCHWAB}" in report.items_loaded
    reason = report.items_failed["ibkr/activity.csv"]
    assert "\n" not in reason
    assert reason.startswith("rejected: unknown layout (first line 'Statement,Header,")
    assert "project CSV" in reason and "Schwab transactions CSV" in reason
    assert "Fidelity activity CSV" in reason
    assert (
        "names its account only in its file name"
        in report.items_failed["schwab/Transactions_20261130.csv"]
    )
    assert report.items_failed["schwab/cut_XXX123_Transactions_1.csv"] == (
        "rejected: truncated: the last line has no line break"
    )


def test_a_broken_mapping_is_reported_and_its_csv_is_an_unknown_layout(tmp_path: Path) -> None:
    inbox = inbox_with(tmp_path, "mapped")
    mapping = inbox / "mapped" / "examplebank.mapping.toml"
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace('Kauf = "buy"', 'Kauf = "purchase"'),
        encoding="utf-8",
    )
    report = load(inbox)
    assert report.items_failed["mapped/examplebank.mapping.toml"].startswith(
        "rejected mapping: [actions] Kauf = 'purchase': an action is one of buy, sell"
    )
    assert report.items_failed["mapped/examplebank_2026-11.csv"].startswith(
        "rejected: unknown layout"
    )
    assert report.items_loaded == ["mapped/accounts.csv"]


# -- --mapping FILE: a mapping outside the inbox, in YAML -----------------------------------

YAML_MAPPING = SAMPLES / "mappings" / "examplebank.mapping.yaml"


def test_a_yaml_mapping_named_on_the_command_line_reads_the_csv_as_its_toml_twin(
    tmp_path: Path, capsys
) -> None:
    """The TOML mapping's CSV in an inbox without it, read with the same mapping in YAML
    given as --mapping: the same rows, under the same ids (R-1000 ...)."""
    inbox = inbox_with(tmp_path, "mapped")
    (inbox / "mapped" / "examplebank.mapping.toml").unlink()
    assert main(["brokerage-csv", "--inbox", str(inbox)]) == EXIT_PARTIAL  # without it
    assert "examplebank_2026-11.csv (rejected: unknown layout" in capsys.readouterr().err

    assert main(["brokerage-csv", "--inbox", str(inbox), "--mapping", str(YAML_MAPPING)]) == 0
    rows = {r[10]: r[:10] for r in rows_by_line("mapped/examplebank_2026-11.csv").values()}
    assert sorted(rows) == [f"R-100{n}" for n in range(7)]
    assert rows["R-1001"][1:8] == (datetime(2026, 11, 3, 15, 5, 31, tzinfo=UTC), "KO", "buy",
                                   "10.000000", "60.800000", "1.5000", "-609.5000")  # fmt: skip
    assert rows["R-1004"][3:8:4] == ("withholding_tax", "-0.7700")
    assert rows["R-1006"][3:8] == ("fee", None, None, None, "-2.0000")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("layout: [1, 2\n", "not a YAML file: "),
        ("- a list\n", "a YAML mapping holds the tables layout, columns and actions"),
        (
            YAML_MAPPING.read_text(encoding="utf-8").replace("Kauf: buy", "Kauf: purchase"),
            "[actions] Kauf = 'purchase': an action is one of buy, sell",
        ),
        (
            YAML_MAPPING.read_text(encoding="utf-8").replace(
                "amount_sign: by_action", "amount_sign: 1"
            ),
            "every value in [layout] and [columns] must be a non-empty string",
        ),
        (
            YAML_MAPPING.read_text(encoding="utf-8").replace(
                "  time_zone: Europe/Berlin", "  zone: Berlin"
            ),
            "unknown key(s) in [layout]: zone",
        ),
    ],
)
def test_a_bad_mapping_option_stops_the_run_in_one_line(
    tmp_path: Path, capsys, text: str, reason: str
) -> None:
    inbox = inbox_with(tmp_path, "mapped")
    bad = tmp_path / "bank.mapping.yaml"
    bad.write_text(text, encoding="utf-8")
    assert main(["brokerage-csv", "--inbox", str(inbox), "--mapping", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: mapping {bad}: {reason}"), err
    assert sql("select count(*) from duckdb_tables() where schema_name = 'raw_brokerage'") == [
        (0,)
    ]  # nothing loaded


def test_a_missing_mapping_file_is_a_usage_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["brokerage-csv", "--inbox", str(tmp_path), "--mapping", str(tmp_path / "no.yaml")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no.yaml: no such file" in err, err


def test_amount_sign_inverted_turns_the_brokers_sign_round(tmp_path: Path) -> None:
    """A broker whose amount column is positive for money paid out (a debit column)."""
    path = tmp_path / "debits.mapping.toml"
    path.write_text(
        '[layout]\namount_sign = "inverted"\naccount_id = "D-1"\ncurrency = "USD"\n'
        '[columns]\nexecuted_at = "Day"\naction = "What"\namount = "Debit"\n'
        '[actions]\npay-in = "deposit"\nfee = "fee"\n',
        encoding="utf-8",
    )
    mapping = formats.mapping_option(path)
    text = "Day,What,Debit\n2026-11-02,pay-in,-500\n2026-11-03,fee,2.5\n"
    detected = formats.detect("debits.csv", text.encode(), [mapping])
    assert [(r["action"], r["amount"]) for _, r in detected.read()] == [
        ("deposit", Decimal("500.0000")),
        ("fee", Decimal("-2.5000")),
    ]


def test_ids_survive_an_overlapping_export_in_another_money_format(tmp_path: Path) -> None:
    header = '"Date","Action","Symbol","Description","Quantity","Price","Fees & Comm","Amount"\n'
    inbox = tmp_path / "inbox"
    trade = '"11/18/2026","Buy","MSFT","MICROSOFT CORP","5",'
    write(inbox, "a/Individual_XXX123_Transactions_1.csv",
          header + trade + '"$405.00","$0.65","-$2,025.65"\n')  # fmt: skip
    write(inbox, "b/Individual_XXX123_Transactions_2.csv",
          header + 2 * (trade + '"$405","$.65","-$2025.65"\n'))  # fmt: skip
    report = load(inbox)
    assert report.duplicates_removed == 1  # the first file's trade, again in the second
    ids = sorted(r[0] for r in sql("select transaction_id from raw_brokerage.transactions"))
    assert len(ids) == 2 and ids[0][:-2] == ids[1][:-2]  # one content, occurrences 1 and 2
    assert [i[-2:] for i in ids] == ["-1", "-2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,050.80", Decimal("1050.8000")),
        ("-$12.00", Decimal("-12.0000")),
        ("$-12.00", Decimal("-12.0000")),
        ("(12.00)", Decimal("-12.0000")),
        ("($1,000.00)", Decimal("-1000.0000")),
        ("1050.8", Decimal("1050.8000")),
        ("$.65", Decimal("0.6500")),
        ("1,05,0.80", None),  # not groups of three
        ("1.050,80", None),  # German, but the separators say US
        ("12e3", None),
        ("$", None),
        ("--12", None),
    ],
)
def test_money_as_brokers_write_it(text: str, expected: Decimal | None) -> None:
    assert parse_money(text, 4) == expected


def test_money_with_other_separators() -> None:
    assert parse_money("1.050,80", 4, ",", ".") == Decimal("1050.8000")
    assert parse_money("-1 050,80 €", 4, ",", "") == Decimal("-1050.8000")  # spaces go
    assert parse_money("1050,80 €", 4, ",", "") == Decimal("1050.8000")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11/27/2026", datetime(2026, 11, 27, 17, 0, tzinfo=UTC)),
        ("11/27/2026 as of 11/26/2026", datetime(2026, 11, 26, 17, 0, tzinfo=UTC)),
        ("07/01/2026", datetime(2026, 7, 1, 16, 0, tzinfo=UTC)),  # EDT: UTC-4
        ("2026-11-27", None),
        ("13/01/2026", None),
        ("11/27/2026 as of", None),
    ],
)
def test_us_dates_count_at_noon_new_york(text: str, expected: datetime | None) -> None:
    assert parse_us_date(text) == expected


def test_a_fidelity_header_with_a_column_we_do_not_know_is_said_so() -> None:
    text = "Run Date,Action,Symbol,Quantity,Price ($),Amount ($),Rebate ($)\n"
    with pytest.raises(LayoutError, match="unexpected Rebate"):
        formats.detect("History_for_Account_Z1.csv", text.encode(), [])


# -- Interactive Brokers Flex Query CSV ---------------------------------------------------


def eastern(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour + 5, minute, second, tzinfo=UTC)  # EST: UTC-5


def test_an_ibkr_flex_export_loads_its_trades_and_cash_with_ibkrs_ids(tmp_path: Path) -> None:
    report = load(inbox_with(tmp_path, "ibkr"))
    assert report.exit_code == EXIT_OK, report.items_failed
    rows = rows_by_line(f"ibkr/{IBKR}")
    # Trades (lines 9-11) and cash transactions (15-20); the other sections, the BOF/BOS
    # records and the SUMMARY line of the cash section are not transactions.
    assert sorted(rows) == [9, 10, 11, 15, 16, 17, 18, 19, 20]
    assert {(r[0], r[8]) for r in rows.values()} == {("U1234567", "USD")}
    assert rows[9][1:8] == (eastern(3, 10, 15, 2), "KO", "buy", "20.000000", "60.100000",
                            "1.0000", "-1203.0000")  # fmt: skip
    assert rows[9][10] == "ibkr-1000000001"  # IBKR's own TransactionID
    # IBKR signs a sale's quantity and its commission negative; ours are unsigned.
    assert rows[11][1:8] == (eastern(10, 11), "KO", "sell", "8.000000", "61.000000", "1.0000",
                             "487.0000")  # fmt: skip
    # A date alone counts at noon New York.
    assert rows[15][1:8] == (eastern(2, 12), None, "deposit", None, None, None, "10000.0000")
    assert rows[16][3:8] == ("interest", None, None, None, "1.2300")
    assert rows[17][3:8] == ("fee", None, None, None, "-1.5000")
    assert rows[18][2:8] == ("KO", "dividend", None, None, None, "6.1200")
    assert rows[19][2:8] == ("KO", "withholding_tax", None, None, None, "-0.9200")
    assert rows[20][3:8] == ("withdrawal", None, None, None, "-500.0000")
    assert all(r[9] is None for r in rows.values())


def test_a_flex_csv_without_header_and_trailer_records_reads_the_same() -> None:
    framed = (SAMPLES / "ibkr" / IBKR).read_text(encoding="utf-8")
    bare = "".join(
        line for line in framed.splitlines(keepends=True)
        if line.split(",")[0].strip('"') not in {"BOF", "BOA", "BOS", "EOS", "EOA", "EOF"}
    )  # fmt: skip
    read = {name: formats.detect(IBKR, text.encode(), []) for name, text in
            (("framed", framed), ("bare", bare))}  # fmt: skip
    assert read["framed"].layout == read["bare"].layout == "ibkr"
    framed_rows = [row for _, row in read["framed"].read()]
    assert framed_rows == [row for _, row in read["bare"].read()] and len(framed_rows) == 9


FLEX_TRADES = (
    '"ClientAccountID","CurrencyPrimary","AssetClass","Symbol","DateTime","Quantity",'
    '"TradePrice","IBCommission","NetCash","Buy/Sell","Open/CloseIndicator","TransactionID"\n'
)


@pytest.mark.parametrize(
    ("asset", "quantity", "side", "opening", "action"),
    [
        ("STK", "-3", "SELL", "O", "short_sale"),  # selling to open: a short sale
        ("STK", "3", "BUY", "C", "short_sale"),  # buying to close: its cover
        ("STK", "3", "BUY", "O", "buy"),
        ("STK", "-3", "SELL", "C", "sell"),
        ("OPT", "1", "BUY", "O", "unsupported:OPT BUY"),
        ("STK", "3", "BTC", "C", None),  # not a side IBKR writes: unparsed
    ],
)
def test_ibkr_short_sales_and_other_asset_classes_are_named(
    asset: str, quantity: str, side: str, opening: str, action: str | None
) -> None:
    line = f'"U1","USD","{asset}","AAPL","20261112;150000","{quantity}","150","-1","0",'
    line += f'"{side}","{opening}","7"\n'
    detected = formats.detect("flex.csv", (FLEX_TRADES + line).encode(), [])
    ((_, row),) = detected.read()
    assert row["action"] == action
    assert (row["unparsed_values"] is not None) == (action is None)


def test_a_flex_file_cut_before_its_eof_record_is_rejected(tmp_path: Path) -> None:
    inbox = inbox_with(tmp_path, "ibkr")
    text = (SAMPLES / "ibkr" / IBKR).read_text(encoding="utf-8")
    write(inbox, "ibkr/cut.csv", text[: text.index('"BOS","POST"')])
    report = load(inbox)
    assert report.exit_code == EXIT_PARTIAL
    assert "must end with EOF" in report.items_failed["ibkr/cut.csv"]
    assert f"ibkr/{IBKR}" in report.items_loaded


def flex_section(text: str, code: str) -> list[dict[str, str]]:
    """The rows of one section of a framed Flex file, read with the csv module alone."""
    records = list(csv.reader(text.splitlines()))
    start = next(i for i, r in enumerate(records) if r[:2] == ["BOS", code])
    end = next(i for i, r in enumerate(records) if r[:2] == ["EOS", code])
    header, *body = records[start + 1 : end]
    return [dict(zip(header, r, strict=True)) for r in body]


def test_the_loaded_rows_reconcile_with_ibkrs_own_cash_report_and_positions(
    tmp_path: Path,
) -> None:
    """IBKR's Cash Report and Open Positions sections against what was loaded: cash =
    starting cash + the sum of the amounts; each position = shares bought - sold, and its
    cost basis = the FIFO cost of the shares left (commissions included, as IBKR counts)."""
    load(inbox_with(tmp_path, "ibkr"))
    text = (SAMPLES / "ibkr" / IBKR).read_text(encoding="utf-8")
    (report,) = flex_section(text, "CRTT")
    (total,) = sql("select sum(amount) from raw_brokerage.transactions")[0]
    assert Decimal(report["StartingCash"]) + total == Decimal(report["EndingCash"])
    lots: dict[str, list[list[Decimal]]] = defaultdict(list)
    trades = sql(
        "select ticker, action, quantity, price, fees from raw_brokerage.transactions "
        "where action in ('buy', 'sell') order by executed_at"
    )
    for ticker, action, quantity, price, fees in trades:
        if action == "buy":
            lots[ticker].append([quantity, quantity * price + fees])
            continue
        left = quantity
        while left:
            shares, cost = lots[ticker][0]
            taken = min(left, shares)
            lots[ticker][0] = [shares - taken, cost - cost * taken / shares]
            lots[ticker] = [lot for lot in lots[ticker] if lot[0]]
            left -= taken
    positions = flex_section(text, "POST")
    assert {p["Symbol"] for p in positions} == set(lots)
    for position in positions:
        held = lots[position["Symbol"]]
        assert sum(lot[0] for lot in held) == Decimal(position["Quantity"])
        assert sum(lot[1] for lot in held) == Decimal(position["CostBasisMoney"])


# -- Interactive Brokers Flex Query XML -----------------------------------------------------

IBKR_XML = "Portfolio_sample_20261102_20261120.xml"


def test_an_ibkr_flex_xml_loads_the_same_rows_as_its_csv(tmp_path: Path) -> None:
    """The sample statement in XML gives the CSV's rows, under IBKR's ids; the order's total
    and the SUMMARY line beside the executions are not read. The CSV loaded after it merges
    into the same rows (same ids, same values): nothing doubles."""
    report = load(inbox_with(tmp_path, "ibkr_xml"))
    assert report.exit_code == EXIT_OK, report.items_failed
    xml_rows = rows_by_line(f"ibkr_xml/{IBKR_XML}")
    # the Trade and CashTransaction elements' lines; not the Order (12) nor the SUMMARY (23)
    assert sorted(xml_rows) == [11, 13, 14, 17, 18, 19, 20, 21, 22]
    by_id = {r[10]: r[:10] for r in xml_rows.values()}
    assert by_id["ibkr-1000000001"][1:8] == (eastern(3, 10, 15, 2), "KO", "buy", "20.000000",
                                             "60.100000", "1.0000", "-1203.0000")  # fmt: skip
    assert by_id["ibkr-1000000003"][3:8] == ("sell", "8.000000", "61.000000", "1.0000", "487.0000")
    assert by_id["ibkr-1000000104"][2:8] == ("KO", "dividend", None, None, None, "6.1200")
    assert by_id["ibkr-1000000106"][3:8] == ("withdrawal", None, None, None, "-500.0000")

    # The CSV of the same statement, loaded next: the same ids merge, and every value agrees.
    load(inbox_with(tmp_path / "csv", "ibkr"))
    assert sql("select count(*) from raw_brokerage.transactions") == [(9,)]
    csv_rows = {r[10]: r[:10] for r in rows_by_line(f"ibkr/{IBKR}").values()}
    assert csv_rows == by_id


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda t: t[: t.index("<CashTransactions>")], "malformed or truncated Flex XML"),
        (lambda t: t.replace(' buySell="BUY"', "", 1), "a Trade without buySell"),
        (
            lambda t: t.replace("<Trade ", "<Execution ").replace("<CashTransaction ", "<Cash "),
            "no Trade or CashTransaction elements",
        ),
    ],
)
def test_a_flex_xml_that_cannot_be_read_is_rejected_in_one_line(
    tmp_path: Path, change, reason: str
) -> None:
    inbox = inbox_with(tmp_path, "ibkr")
    text = (SAMPLES / "ibkr_xml" / IBKR_XML).read_text(encoding="utf-8")
    write(inbox, "ibkr/statement.xml", change(text))
    write(inbox, "other.xml", "<?xml version='1.0'?><Statement><Row a='1'/></Statement>\n")
    report = load(inbox)
    assert report.exit_code == EXIT_PARTIAL
    assert reason in report.items_failed["ibkr/statement.xml"]
    assert "\n" not in report.items_failed["ibkr/statement.xml"]
    assert report.items_failed["other.xml"].startswith("rejected: unknown layout (XML)")
    assert f"ibkr/{IBKR}" in report.items_loaded  # the other files load

"""Charles Schwab's transactions CSV (History > Transactions > Export), mapped to the raw
contract. Field mapping, action vocabulary and sign conventions: docs/brokerage.md.

The layout, as Schwab writes it:

    "Transactions  for account Individual ...123 as of 11/30/2026 10:15:00 AM ET"  (older only)
    "Date","Action","Symbol","Description","Quantity","Price","Fees & Comm","Amount"
    "11/27/2026","Buy","KO","COCA-COLA CO","25","$60.12","$0.65","-$1,503.65"
    "11/27/2026 as of 11/26/2026","Bank Interest","","BANK INT 102726-112626","","","","$0.42"
    "Transactions Total","","","","","","","-$1,503.23",                           (older only)

Money is `$1,050.80`, negative `-$1,050.80`; Quantity and Fees & Comm are unsigned, Amount
is the signed net cash (negative = out of the account). The account is named only in the
file name Schwab gives the download (`Individual_XXX123_Transactions_20261130-101500.csv`)
or in the older title line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.brokerage.formats.common import (
    UNSUPPORTED_PREFIX,
    LayoutError,
    Record,
    RowBuilder,
    Table,
    TransactionIds,
    absolute,
    canonical,
    money_parser,
    parse_us_date,
    table_rows,
)

NAME = "schwab"
TITLE = "Schwab transactions CSV"
HEADER = ("Date", "Action", "Symbol", "Description", "Quantity", "Price", "Fees & Comm", "Amount")

# Schwab's action -> ours. Cash journals go by the sign of the amount (see _action).
ACTIONS = {
    "Buy": "buy",
    "Sell": "sell",
    "Cash Dividend": "dividend",
    "Qualified Dividend": "dividend",
    "Non-Qualified Div": "dividend",
    "Special Dividend": "dividend",
    # A reinvestment is two rows: the dividend (cash in) and the shares bought with it.
    "Reinvest Dividend": "dividend",
    "Pr Yr Div Reinvest": "dividend",
    "Reinvest Shares": "buy",
    "Bank Interest": "interest",
    "Credit Interest": "interest",
    "Margin Interest": "interest",  # charged: a negative amount
    "NRA Tax Adj": "withholding_tax",
    "Foreign Tax Paid": "withholding_tax",
    # Recognised and rejected by dbt: the warehouse has no FIFO on negative lots.
    "Sell Short": "short_sale",
    "Buy to Cover": "short_sale",
    "MoneyLink Deposit": "deposit",
    "Wire Received": "deposit",
    "Wire Funds Received": "deposit",
    "Funds Received": "deposit",
    "Wire Sent": "withdrawal",
    "Wire Funds": "withdrawal",
    "Service Fee": "fee",
    "ADR Mgmt Fee": "fee",
    "Stock Split": "split",
}
# Cash in or out, whichever the amount's sign says; with a symbol they move shares.
CASH_BY_SIGN = {"MoneyLink Transfer", "Journal"}
# Known to Schwab and to us, not modelled by the warehouse yet: kept, rejected by dbt.
UNSUPPORTED = {
    "Reinvestment Adj",
    "Div Adjustment",
    "Long Term Cap Gain",
    "Short Term Cap Gain",
    "Long Term Cap Gain Reinvest",
    "Short Term Cap Gain Reinvest",
    "Buy to Open",
    "Sell to Open",
    "Buy to Close",
    "Sell to Close",
    "Security Transfer",
    "Journaled Shares",
    "Cash In Lieu",
    "Spin-off",
    "Stock Merger",
    "Misc Credits",
}

_TITLE = re.compile(r"Transactions\s+for account .*?\.\.\.(\d+)", re.IGNORECASE)
_FILE_ACCOUNT = re.compile(r"(?:^|_)(X+\d+)_Transactions_", re.IGNORECASE)


def _fields(record: Record) -> list[str]:
    fields = [f.strip() for f in record.fields]
    while fields and not fields[-1]:
        fields.pop()
    return fields


def find(records: Sequence[Record], file_name: str) -> Table | None:
    """Schwab's table: the header on the first line, or on the second after a title line."""
    first = [r for r in records[:3] if not r.is_blank]
    title = None
    if first and len(_fields(first[0])) == 1 and _TITLE.match(_fields(first[0])[0]):
        title, first = first[0], first[1:]
    if not first or [f.casefold() for f in _fields(first[0])] != [h.casefold() for h in HEADER]:
        return None
    body = records[records.index(first[0]) + 1 :]
    table = table_rows(
        NAME,
        list(HEADER),
        body,
        ends_before=lambda r: r.is_blank or r.fields[0].strip().startswith("Transactions Total"),
    )
    table.account_id = _account(file_name, title)
    return table


def _account(file_name: str, title: Record | None) -> str:
    """`XXX123`: the masked account number, as Schwab names the account to its owner."""
    found = _FILE_ACCOUNT.search(file_name.rsplit("/", 1)[-1])
    if found:
        return found.group(1).upper()
    found = _TITLE.match(_fields(title)[0]) if title else None
    if found:
        return f"XXX{found.group(1)}"
    raise LayoutError(
        "a Schwab export names its account only in its file name "
        "(<account>_XXX123_Transactions_<date>.csv, as Schwab saves it) or a title line "
        "'Transactions for account ... ...123'; this file has neither: keep Schwab's file name"
    )


def _action(action: str, symbol: str, amount_text: str) -> str | None:
    if action in ACTIONS:
        return ACTIONS[action]
    if action in CASH_BY_SIGN and not symbol:
        return "withdrawal" if amount_text.strip().startswith(("-", "(")) else "deposit"
    if action in UNSUPPORTED or action in CASH_BY_SIGN:
        return UNSUPPORTED_PREFIX + action
    return None  # not a word we know: unparsed


def rows(table: Table) -> list[tuple[int, dict]]:
    account_id = table.account_id
    assert account_id is not None, "read() names every Schwab table's account"
    ids = TransactionIds(NAME)
    quantity, price = money_parser("quantity"), money_parser("price")
    fees, amount = money_parser("fees"), money_parser("amount")
    result = []
    for line, cells in table.rows:
        row = RowBuilder()
        row.set("account_id", account_id)
        row.set("currency", "USD")
        executed_at = row.parse("executed_at", cells["Date"], parse_us_date)
        symbol = cells["Symbol"]
        row.set("ticker", symbol or None)
        action = _action(cells["Action"], symbol, cells["Amount"])
        if action is None:
            row.unparsed["action"] = cells["Action"]
        row.set("action", action)
        their_quantity = row.parse("quantity", cells["Quantity"], quantity)
        if action in ("buy", "sell", "short_sale"):
            row.set("quantity", absolute(their_quantity))
        their_price = row.parse("price", cells["Price"], price)
        their_fees = row.parse("fees", cells["Fees & Comm"], fees)
        their_amount = row.parse("amount", cells["Amount"], amount)
        row.set(
            "transaction_id",
            ids.next(
                [
                    account_id,
                    canonical(executed_at, cells["Date"]),
                    canonical(None, cells["Action"]),
                    symbol,
                    canonical(their_quantity, cells["Quantity"]),
                    canonical(their_price, cells["Price"]),
                    canonical(their_fees, cells["Fees & Comm"]),
                    canonical(their_amount, cells["Amount"]),
                ]
            ),
        )
        result.append((line, row.done()))
    return result

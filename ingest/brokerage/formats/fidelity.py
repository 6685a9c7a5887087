"""Fidelity's account activity CSV (Activity & Orders > History > Download), mapped to the
raw contract. Field mapping, action vocabulary and sign conventions: docs/brokerage.md.

The layout, as Fidelity writes it (tests/data/brokers/fidelity/ has one): a few blank or
text lines, the header `Run Date,Account,Action,Symbol,Description,Type,Quantity,Price ($),
Commission ($),Fees ($),Accrued Interest ($),Amount ($),Settlement Date`, the rows
(` 11/27/2026,"Individual" X12345678," YOU BOUGHT COCA-COLA CO (KO) (Cash)", KO,...`), a
blank line, then a disclaimer and `Date downloaded 11/30/2026 10:15 am` below the table.

Action is a sentence whose first words say what happened (`YOU BOUGHT`, `DIVIDEND
RECEIVED`, ...); Quantity is signed (a sale's is negative), Amount ($) is the signed net
cash. Older and newer exports name a few columns differently (`Security Description`,
`Account Number`, `Cash Balance ($)`), so the header is recognised by the columns it
must have, not by one exact line.
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

NAME = "fidelity"
TITLE = "Fidelity activity CSV"
REQUIRED = ("Run Date", "Action", "Symbol", "Quantity", "Price ($)", "Amount ($)")
OPTIONAL = (
    "Account",
    "Account Number",
    "Description",
    "Security Description",
    "Type",
    "Security Type",
    "Commission ($)",
    "Fees ($)",
    "Accrued Interest ($)",
    "Cash Balance ($)",
    "Settlement Date",
)
PREAMBLE_LINES = 15  # the header is searched for this far down

# The first words of Fidelity's Action -> ours; the longest prefix that matches wins.
ACTIONS = {
    "YOU BOUGHT": "buy",
    "YOU SOLD": "sell",
    "DIVIDEND RECEIVED": "dividend",
    "ELECTRONIC FUNDS TRANSFER RECEIVED": "deposit",
    "DIRECT DEPOSIT": "deposit",
    "CHECK RECEIVED": "deposit",
    "WIRE TRANSFER FROM": "deposit",
    "ELECTRONIC FUNDS TRANSFER PAID": "withdrawal",
    "DIRECT DEBIT": "withdrawal",
    "WIRE TRANSFER TO": "withdrawal",
    "FEE CHARGED": "fee",
    "REINVESTMENT": "buy",  # the shares bought with the DIVIDEND RECEIVED of the same day
    "INTEREST EARNED": "interest",
    "MUNI EXEMPT INT": "interest",
    "FOREIGN TAX PAID": "withholding_tax",
    "ADJ FOREIGN TAX": "withholding_tax",
    # Recognised and rejected by dbt: the warehouse has no FIFO on negative lots.
    "YOU SOLD SHORT SALE": "short_sale",
    "YOU BOUGHT SHORT COVER": "short_sale",
}
# Between accounts: cash in or out, or shares when the row has a quantity (in or out by its
# sign: transfer_in, transfer_out).
TRANSFERS = {
    "TRANSFERRED FROM": "deposit",
    "TRANSFERRED TO": "withdrawal",
    "TRANSFER OF ASSETS": "deposit",  # an ACAT: cash in, or shares by their sign
}
# Known, not modelled by the warehouse yet: kept, rejected by dbt.
UNSUPPORTED = (
    "SHORT-TERM CAP GAIN",
    "LONG-TERM CAP GAIN",
    "RETURN OF CAPITAL",
    "DISTRIBUTION",
    "MERGER",
    "REDEMPTION",
    "IN LIEU OF FRX SHARE",
    "JOURNALED",
)

_ACCOUNT_NUMBER = re.compile(r"([A-Z]?\d{5,})$")
_FILE_ACCOUNT = re.compile(r"History_for_Account_([A-Z0-9]+)", re.IGNORECASE)


def find(records: Sequence[Record], file_name: str) -> Table | None:
    """Fidelity's table: the `Run Date,...` line within the first lines, up to a blank one."""
    for position, record in enumerate(records[:PREAMBLE_LINES]):
        names = [f.strip() for f in record.fields]
        while names and not names[-1]:
            names.pop()
        if not names or names[0] != "Run Date":
            continue
        missing = [c for c in REQUIRED if c not in names]
        unexpected = [n for n in names if n not in REQUIRED and n not in OPTIONAL]
        if missing or unexpected or len(set(names)) != len(names):
            raise LayoutError(
                "a Fidelity activity header (Run Date, ...) with "
                + "; ".join(
                    part
                    for part in (
                        missing and f"missing {', '.join(missing)}",
                        unexpected and f"unexpected {', '.join(unexpected)}",
                    )
                    if part
                )
                or "a column twice"
            )
        table = table_rows(NAME, names, records[position + 1 :])
        if "Account" not in names and "Account Number" not in names:
            found = _FILE_ACCOUNT.search(file_name.rsplit("/", 1)[-1])
            if not found:
                raise LayoutError(
                    "a Fidelity export without an Account column names its account only in "
                    "its file name (History_for_Account_<number>.csv); keep Fidelity's name"
                )
            table.account_id = found.group(1).upper()
        return table
    return None


def _account(cells: dict[str, str], table: Table) -> str | None:
    """The account number: `Account Number`, else the number that ends the Account cell
    (`Individual X12345678`), else the Account cell as it is, else the file's."""
    if cells.get("Account Number"):
        return cells["Account Number"]
    account = " ".join(cells.get("Account", "").split())
    if account:
        found = _ACCOUNT_NUMBER.search(account)
        return found.group(1) if found else account
    return table.account_id


def _action(action: str, quantity: str, security_type: str) -> str | None:
    words = " ".join(action.split()).upper()
    unsupported = max((p for p in UNSUPPORTED if words.startswith(p)), key=len, default="")
    mapped = max((p for p in ACTIONS if words.startswith(p)), key=len, default="")
    transfer = next((p for p in TRANSFERS if words.startswith(p)), "")
    if unsupported and len(unsupported) >= len(mapped):
        return UNSUPPORTED_PREFIX + " ".join(action.split())
    if mapped:
        if ACTIONS[mapped] in ("buy", "sell") and security_type.strip().casefold() == "short":
            return "short_sale"  # a short sale or its cover, whatever the words
        return ACTIONS[mapped]
    if transfer:
        moves_shares = quantity.strip() not in ("", "0", "0.0", "0.00", "0.000")
        if not moves_shares:
            return TRANSFERS[transfer]
        return "transfer_out" if quantity.strip().startswith("-") else "transfer_in"
    return None


def rows(table: Table) -> list[tuple[int, dict]]:
    ids = TransactionIds(NAME)
    quantity, price = money_parser("quantity"), money_parser("price")
    fees, amount = money_parser("fees"), money_parser("amount")
    result = []
    for line, cells in table.rows:
        row = RowBuilder()
        account_id = _account(cells, table)
        row.set("account_id", account_id)
        row.set("currency", "USD")
        executed_at = row.parse("executed_at", cells["Run Date"], parse_us_date)
        symbol = cells["Symbol"]
        row.set("ticker", symbol or None)
        security_type = cells.get("Type", cells.get("Security Type", ""))
        action = _action(cells["Action"], cells["Quantity"], security_type)
        if action is None:
            row.unparsed["action"] = " ".join(cells["Action"].split())
        row.set("action", action)
        their_quantity = row.parse("quantity", cells["Quantity"], quantity)
        if action in ("buy", "sell", "short_sale", "transfer_in", "transfer_out"):
            row.set("quantity", absolute(their_quantity))  # Fidelity signs a sale's negative
        elif their_quantity == 0:
            row.set("quantity", None)  # Fidelity's 0 on rows that move no shares
        their_price = row.parse("price", cells["Price ($)"], price)
        # One fees column for two of theirs: commission plus fees.
        their_fees = [
            row.parse("fees", cells.get(column, ""), fees)
            for column in ("Commission ($)", "Fees ($)")
        ]
        commission_text, fees_text = cells.get("Commission ($)", ""), cells.get("Fees ($)", "")
        if any(
            t.strip() and v is None
            for t, v in zip((commission_text, fees_text), their_fees, strict=True)
        ):
            row.set("fees", None)
            row.unparsed["fees"] = f"Commission ($)={commission_text}; Fees ($)={fees_text}"
        elif any(v is not None for v in their_fees):
            row.set("fees", sum(v for v in their_fees if v is not None))
            row.unparsed.pop("fees", None)
        their_amount = row.parse("amount", cells["Amount ($)"], amount)
        row.set(
            "transaction_id",
            ids.next(
                [
                    account_id or "",
                    canonical(executed_at, cells["Run Date"]),
                    canonical(None, cells["Action"]),
                    symbol,
                    canonical(their_quantity, cells["Quantity"]),
                    canonical(their_price, cells["Price ($)"]),
                    *(
                        canonical(v, t)
                        for v, t in zip(their_fees, (commission_text, fees_text), strict=True)
                    ),
                    canonical(their_amount, cells["Amount ($)"]),
                ]
            ),
        )
        result.append((line, row.done()))
    return result

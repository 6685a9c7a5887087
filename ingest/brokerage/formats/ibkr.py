"""Interactive Brokers' Flex Query CSV (Reports > Flex Queries > Activity Flex Query, format
CSV), mapped to the raw contract. Field mapping and action vocabulary: docs/brokerage.md.

A Flex CSV holds one table per section of the query, each with its own header line of
IBKR's field names; with "Include header and trailer records" the file is framed by
`BOF`/`EOF` records and each section by `BOS`/`EOS` (tests/data/brokers/ibkr/ has one):

    "BOF","U1234567","Portfolio sample","3","20261102","20261120","20261120;183000",...
    "BOA","U1234567"
    "BOS","TRNT","Trades; trade date basis"
    "ClientAccountID","CurrencyPrimary","AssetClass","Symbol",...,"Buy/Sell","TransactionID"
    "U1234567","USD","STK","KO",...,"BUY","1000000001"
    "EOS","TRNT","2",...
    "BOS","CTRN","Cash Transactions"
    ...
    "EOF","U1234567",...

The same query in XML (`<FlexQueryResponse>`, `find_xml`) has an element per row
(`<Trade .../>`, `<CashTransaction .../>`) whose attributes are the same fields in camelCase
(`buySell`, `tradePrice`); they are renamed to the CSV's names (XML_FIELDS), so both formats
share `rows()` and IBKR's ids: the same statement in CSV and in XML gives the same rows.

Two sections carry transactions, recognised by their columns: Trades (`Buy/Sell`,
`TradePrice`) and Cash Transactions (`Type`, `Amount`). Others (Open Positions, Cash Report,
Account Information, ...) are not transactions and are not read. IBKR gives its own
`TransactionID`, so the ids are IBKR's. Times are `yyyyMMdd;HHmmss`, the Flex default, in
New York time (the statements' zone for US accounts); a date alone counts at noon there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.parsers import expat

from ingest.brokerage.formats.common import (
    NEW_YORK,
    UNSUPPORTED_PREFIX,
    LayoutError,
    Record,
    RowBuilder,
    Table,
    TransactionIds,
    absolute,
    at_noon_new_york,
    canonical,
    money_parser,
)

NAME = "ibkr"
TITLE = "Interactive Brokers Flex Query CSV"
XML_TITLE = "Interactive Brokers Flex Query XML"
ACCOUNT = "ClientAccountID"
TRADES = ("Buy/Sell", "TradePrice", "Quantity", "Symbol", "DateTime")
CASH = ("Type", "Amount", "DateTime")
HEADER_LINES = 10  # the first section header is searched for this far down
MARKERS = {"BOF", "BOA", "BOS", "EOS", "EOA", "EOF"}
# Rows of a finer or coarser level than one per transaction would count it twice.
KEPT_LEVELS = {"", "EXECUTION", "DETAIL"}
STOCKS = {"", "STK", "ETF", "FUND"}  # asset classes whose trades are shares

# IBKR's cash transaction Type -> ours; deposits and withdrawals share one Type.
CASH_TYPES = {
    "dividends": "dividend",
    "payment in lieu of dividends": "dividend",
    "withholding tax": "withholding_tax",
    "broker interest received": "interest",
    "broker interest paid": "interest",
    "bond interest received": "interest",
    "bond interest paid": "interest",
    "other fees": "fee",
    "broker fees": "fee",
}
DEPOSITS_WITHDRAWALS = {"deposits/withdrawals", "deposits & withdrawals"}


# Flex XML: the elements that are transactions, and their attributes under the CSV's names.
XML_SECTIONS = {"Trade": "trades", "CashTransaction": "cash"}
XML_FIELDS = {
    "accountId": ACCOUNT,
    "currency": "CurrencyPrimary",
    "assetCategory": "AssetClass",
    "symbol": "Symbol",
    "dateTime": "DateTime",
    "quantity": "Quantity",
    "tradePrice": "TradePrice",
    "ibCommission": "IBCommission",
    "netCash": "NetCash",
    "buySell": "Buy/Sell",
    "openCloseIndicator": "Open/CloseIndicator",
    "levelOfDetail": "LevelOfDetail",
    "transactionID": "TransactionID",
    "type": "Type",
    "amount": "Amount",
}
XML_NAMES = {ours: theirs for theirs, ours in XML_FIELDS.items()}


def find_xml(text: str) -> Table | None:
    """The transaction rows of a Flex Query in XML (a `<FlexQueryResponse>` document), each
    with the line its element starts on; None for XML that is not one, LayoutError for a
    Flex document that cannot be read (malformed, cut off, without the fields needed)."""
    parser = expat.ParserCreate()
    table = Table(NAME, [])
    root: list[str] = []
    problems: list[str] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if not root:
            root.append(name)
        section = XML_SECTIONS.get(name)
        if section is None or root[0] != "FlexQueryResponse":
            return  # the statement, its other sections (positions, cash report, ...)
        cells = {XML_FIELDS.get(k, k): v.strip() for k, v in attributes.items()}
        needed = (ACCOUNT, *(TRADES if section == "trades" else CASH))
        missing = [XML_NAMES.get(c, c) for c in needed if c not in cells]
        if missing:
            problems.append(
                f"line {parser.CurrentLineNumber}: a {name} without {', '.join(missing)} (the "
                "Flex query needs those fields: docs/brokerage.md)"
            )
        elif cells.get("LevelOfDetail", "").upper() in KEPT_LEVELS:
            table.rows.append((parser.CurrentLineNumber, {"__section": section, **cells}))

    parser.StartElementHandler = start
    try:
        parser.Parse(text, True)
    except expat.ExpatError as error:
        if root[:1] != ["FlexQueryResponse"]:
            return None
        raise LayoutError(f"malformed or truncated Flex XML: {error}") from error
    if root[:1] != ["FlexQueryResponse"]:
        return None
    if problems:
        raise LayoutError(problems[0])
    if not table.rows:
        raise LayoutError(
            "no Trade or CashTransaction elements: a Flex query needs the Trades and Cash "
            "Transactions sections (docs/brokerage.md)"
        )
    return table


def _fields(record: Record) -> list[str]:
    return [f.strip() for f in record.fields]


def find(records: Sequence[Record], file_name: str) -> Table | None:
    """The Flex file's transaction rows: a `BOF` record first, or a section header
    (`ClientAccountID,...` with the columns of Trades or Cash Transactions) near the top."""
    lines = [r for r in records if not r.is_blank]
    if not lines:
        return None
    framed = _fields(lines[0])[0] == "BOF"
    if not framed and not any(_section(_fields(r)) for r in lines[:HEADER_LINES]):
        return None
    if framed and _fields(lines[-1])[0] != "EOF":
        raise LayoutError("truncated: a Flex file that starts with BOF must end with EOF")
    table = Table(NAME, [])
    header: list[str] | None = None
    section: str | None = None
    for record in lines:
        fields = _fields(record)
        if fields[0] in MARKERS:
            header = section = None  # a new section states its header again
            continue
        if fields[0] == ACCOUNT:
            header, section = fields, _section(fields)
            continue
        if header is None:
            raise LayoutError(f"line {record.line}: a row before any section header")
        if section is None:
            continue  # Open Positions, Cash Report, ...: not transactions
        if len(fields) > len(header) and not any(fields[len(header) :]):
            fields = fields[: len(header)]
        if len(fields) != len(header):
            raise LayoutError(
                f"line {record.line} has {len(fields)} fields, its section's header "
                f"{len(header)} (truncated or malformed)"
            )
        cells = dict(zip(header, fields, strict=True))
        if cells.get("LevelOfDetail", "").upper() not in KEPT_LEVELS:
            continue  # an order's total or a summary beside its executions or details
        table.rows.append((record.line, {"__section": section, **cells}))
    if not table.rows:
        raise LayoutError(
            "no Trades or Cash Transactions rows: a Flex query needs ClientAccountID and "
            "those sections' fields (docs/brokerage.md)"
        )
    return table


def _section(header: list[str]) -> str | None:
    if not header or header[0] != ACCOUNT:
        return None
    if all(column in header for column in TRADES):
        return "trades"
    if all(column in header for column in CASH):
        return "cash"
    return None


def parse_flex_instant(text: str) -> datetime | None:
    """`20261127;103122` (Flex's default), `2026-11-27;10:31:22`, `20261127` or `2026-11-27`:
    New York time, a date alone at noon; None when it is none of them."""
    text = text.strip().replace(", ", ";").replace(" ", ";")
    for layout in ("%Y%m%d;%H%M%S", "%Y-%m-%d;%H:%M:%S", "%Y%m%d;%H:%M:%S"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=NEW_YORK).astimezone(UTC)
        except ValueError:
            continue
    for layout in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return at_noon_new_york(datetime.strptime(text, layout).date())
        except ValueError:
            continue
    return None


def _trade_action(cells: dict[str, str]) -> str | None:
    side = cells["Buy/Sell"].upper()
    opening_or_closing = cells.get("Open/CloseIndicator", "").upper()
    asset_class = cells.get("AssetClass", "").upper()
    if side not in ("BUY", "SELL"):
        return None
    if asset_class not in STOCKS:
        return f"{UNSUPPORTED_PREFIX}{asset_class} {side}"  # options, futures, currencies
    # Selling to open starts a short position and buying to close covers one.
    if (side, opening_or_closing) in (("SELL", "O"), ("BUY", "C")):
        return "short_sale"
    return "buy" if side == "BUY" else "sell"


def _cash_action(cells: dict[str, str], amount_text: str) -> str | None:
    kind = " ".join(cells["Type"].split()).casefold()
    if kind in DEPOSITS_WITHDRAWALS:
        return "withdrawal" if amount_text.strip().startswith(("-", "(")) else "deposit"
    if kind in CASH_TYPES:
        return CASH_TYPES[kind]
    return f"{UNSUPPORTED_PREFIX}{cells['Type']}" if kind else None


def rows(table: Table) -> list[tuple[int, dict]]:
    ids = TransactionIds(NAME)
    quantity, price = money_parser("quantity"), money_parser("price")
    fees, amount = money_parser("fees"), money_parser("amount")
    result = []
    for line, cells in table.rows:
        row = RowBuilder()
        row.set("account_id", cells[ACCOUNT] or None)
        row.set("currency", (cells.get("CurrencyPrimary") or cells.get("Currency") or "").upper())
        executed_at = row.parse("executed_at", cells["DateTime"], parse_flex_instant)
        row.set("ticker", cells.get("Symbol") or None)
        if cells["__section"] == "trades":
            action = _trade_action(cells)
            their_quantity = row.parse("quantity", cells["Quantity"], quantity)
            row.set("quantity", absolute(their_quantity))  # IBKR signs a sale's negative
            row.parse("price", cells["TradePrice"], price)
            their_fees = row.parse("fees", cells.get("IBCommission", ""), fees)
            row.set("fees", absolute(their_fees))  # IBKR's commission is negative cash
            their_amount = row.parse("amount", cells.get("NetCash", ""), amount)
            text = cells["Buy/Sell"]
        else:
            action = _cash_action(cells, cells["Amount"])
            their_amount = row.parse("amount", cells["Amount"], amount)
            text = cells["Type"]
        if action is None:
            row.unparsed["action"] = text
        row.set("action", action)
        their_id = cells.get("TransactionID", "")
        row.set(
            "transaction_id",
            f"{NAME}-{their_id}"
            if their_id
            else ids.next(
                [
                    cells[ACCOUNT],
                    canonical(executed_at, cells["DateTime"]),
                    text,
                    cells.get("Symbol", ""),
                    canonical(their_amount, cells.get("NetCash", cells.get("Amount", ""))),
                ]
            ),
        )
        result.append((line, row.done()))
    return result

"""What every broker layout shares: reading its table out of the file, money and date
cells as brokers write them, and the row in the raw contract's shape with a derived id.

A broker's CSV is not the project's CSV: money comes as `$1,050.80`, `-$12.00` or
`(12.00)`, a trade has a date but no time, and no row has an id. The importers
(schwab.py, fidelity.py, mapping.py) map the broker's columns onto ours with these helpers;
a cell that does not parse is null with its text in `unparsed_values`, never a reason to
drop the row or the file (the same rule as records.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ingest.brokerage.records import (
    RAW_TRANSACTIONS_SCHEMA,
    TRANSACTION_COLUMNS,
    format_value,
    parse_decimal,
)

# Our actions (int_transactions_validated accepts these, short_sale aside).
ACTIONS = (
    "buy",
    "sell",
    "dividend",
    "deposit",
    "withdrawal",
    "fee",
    "split",
    "interest",
    "withholding_tax",
    "transfer_in",
    "transfer_out",
    "short_sale",  # recognised, and rejected by dbt with that reason (no FIFO on negative lots)
)
# A broker action the warehouse does not model yet is kept as `unsupported:<their words>`,
# which dbt rejects as `unsupported_action`: the row is in raw and in the quarantine, with its
# lineage, instead of being dropped.
UNSUPPORTED_PREFIX = "unsupported:"

# The exports of US brokers give the trade date, not the time. Noon in New York is inside
# every NYSE session, early closes (13:00) included, so the row counts at that day's close.
NEW_YORK = ZoneInfo("America/New_York")
NOON = time(12, 0)

_SCALES = {f.name: f.type.scale for f in RAW_TRANSACTIONS_SCHEMA if hasattr(f.type, "scale")}


@dataclass(frozen=True)
class Record:
    """One line of the file as fields (csv), with its line number (1-based)."""

    line: int
    fields: list[str]

    @property
    def is_blank(self) -> bool:
        return not any(f.strip() for f in self.fields)


def read_records(text: str, delimiter: str = ",") -> list[Record]:
    """Every line of a broker file as fields. Not strict: Fidelity writes cells such as
    `"Individual" X12345678` (a quoted name, then the number), which a strict reader refuses.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    try:
        for fields in reader:
            records.append(Record(reader.line_num, fields))
    except csv.Error as error:
        raise LayoutError(f"malformed CSV at line {reader.line_num}: {error}") from error
    return records


class LayoutError(Exception):
    """The file has a known layout but cannot be read as one (the reason is recorded)."""


@dataclass
class Table:
    """The broker's table inside a file: its column names and its rows, cells by name."""

    layout: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    account_id: str | None = None  # when the file, not a column, names the account


def table_rows(
    layout: str,
    header: list[str],
    body: Sequence[Record],
    ends_before: Callable[[Record], bool] = lambda record: record.is_blank,
) -> Table:
    """The rows from `body` up to the first record `ends_before` says is past the table.

    Blank lines inside are skipped; empty fields after the last column (a trailing comma,
    as Fidelity writes) are tolerated; any other count of fields rejects the file, as a
    short or long line is a truncated or malformed export.
    """
    table = Table(layout, header)
    for record in body:
        if ends_before(record):
            break
        fields = record.fields
        if len(fields) > len(header) and not any(f.strip() for f in fields[len(header) :]):
            fields = fields[: len(header)]
        if len(fields) != len(header):
            raise LayoutError(
                f"line {record.line} has {len(fields)} fields, the header {len(header)} "
                "(truncated or malformed)"
            )
        table.rows.append(
            (record.line, dict(zip(header, (f.strip() for f in fields), strict=True)))
        )
    return table


_MONEY_SYMBOLS = "$€£¥"


def parse_money(
    text: str, scale: int, decimal_separator: str = ".", thousands_separator: str = ","
) -> Decimal | None:
    """A broker's number: `$1,050.80`, `-$12.00`, `$-12.00`, `(12.00)` (accounting minus),
    `1.050,80` with the separators given. None when it is not one.

    Thousands separators must group by three (`1,05,0` is not a number); no exponents.
    """
    value = "".join(text.split())  # spaces, also the non-breaking ones some exports use
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1]
    signed = False
    for _ in range(2):  # one sign and a currency symbol, in either order
        if value[:1] and value[0] in "+-" and not signed:
            signed, negative, value = True, negative != (value[0] == "-"), value[1:]
        value = value.strip(_MONEY_SYMBOLS)
    digits = re.escape(decimal_separator)
    if thousands_separator:
        group = re.escape(thousands_separator)
        pattern = rf"(\d{{1,3}}({group}\d{{3}})+|\d+)({digits}\d*)?|{digits}\d+"
    else:
        pattern = rf"\d+({digits}\d*)?|{digits}\d+"
    if not re.fullmatch(pattern, value):
        return None
    if thousands_separator:
        value = value.replace(thousands_separator, "")
    value = value.replace(decimal_separator, ".")
    return parse_decimal(("-" if negative else "") + value, scale)


def money_parser(
    column: str, decimal_separator: str = ".", thousands_separator: str = ","
) -> Callable[[str], Decimal | None]:
    scale = _SCALES[column]
    return lambda text: parse_money(text, scale, decimal_separator, thousands_separator)


def at_noon_new_york(day: date) -> datetime:
    return datetime.combine(day, NOON, NEW_YORK).astimezone(UTC)


def parse_us_date(text: str) -> datetime | None:
    """`11/27/2026` -> noon New York that day, in UTC. `11/27/2026 as of 11/26/2026` is a
    posting on the 27th of something that happened on the 26th: the effective (as-of)
    date is the one that counts for positions and cash.
    """
    _, _, effective = text.partition(" as of ")
    try:
        day = datetime.strptime((effective or text).strip(), "%m/%d/%Y").date()
    except ValueError:
        return None
    return at_noon_new_york(day)


class RowBuilder:
    """One transaction in the raw contract's shape, cell by cell; keeps the cells that did
    not parse, by our column name, with the text as delivered."""

    def __init__(self) -> None:
        self.row: dict[str, Any] = dict.fromkeys(TRANSACTION_COLUMNS)
        self.unparsed: dict[str, str] = {}

    def parse(self, column: str, text: str | None, parse: Callable[[str], Any]) -> Any:
        text = (text or "").strip()
        value = None
        if text:
            try:
                value = parse(text)
            except (ArithmeticError, ValueError, OverflowError):
                value = None
            if value is None:
                self.unparsed[column] = text
        self.row[column] = value
        return value

    def set(self, column: str, value: Any) -> None:
        self.row[column] = value

    def done(self) -> dict[str, Any]:
        self.row["unparsed_values"] = (
            json.dumps(self.unparsed, sort_keys=True) if self.unparsed else None
        )
        return self.row


def canonical(value: Any, text: str | None) -> str:
    """A cell for the transaction id: the parsed value (so `$1,050.80` and `$1050.80`, as
    Schwab wrote money in different years, give one id), else the text as delivered."""
    if value is not None:
        return format_value(value)
    return " ".join((text or "").split())


class TransactionIds:
    """Ids for rows that have none: a hash of the row's content plus its occurrence number
    among rows of the same content in this file, so two identical trades on one day stay
    two rows, and the same row in an overlapping export gets the same id (and merges)."""

    def __init__(self, layout: str) -> None:
        self.layout = layout
        self.seen: Counter[str] = Counter()

    def next(self, content: Sequence[str]) -> str:
        digest = hashlib.sha256("\x1f".join((self.layout, *content)).encode()).hexdigest()[:20]
        self.seen[digest] += 1
        return f"{self.layout}-{digest}-{self.seen[digest]}"


def absolute(value: Decimal | None) -> Decimal | None:
    return None if value is None else abs(value)

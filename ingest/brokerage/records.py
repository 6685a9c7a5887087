"""Broker records (CSV lines, API items) -> arrow tables in the raw contract's shape.

Both entry points deliver text: a CSV cell, or a JSON string (brokers send money as
strings so no float touches it). One parser turns that text into the contract's types.
A value that does not parse is not a reason to drop the row: the cell becomes null and
its text is kept in `unparsed_values`, so dbt can reject the row with a reason.

Columns beyond the contract (the contract in docs/architecture.md is a subset):
- `source_file`, `source_line`: where a CSV row came from (null for API rows);
- `unparsed_values`: JSON object {column: text as delivered} of cells that did not parse;
- `conflicting_versions` (transactions): how many *other*, different versions of the same
  transaction_id the same export (one file, or one API run) contained; the last one is
  kept, and anything above 0 means the broker contradicted itself.
- `retired_at`, `retired_reason` (transactions): set when the row was withdrawn: missing from
  a re-sent version of its export file, or removed or superseded by `brokerage-retire`. The
  row stays in raw with its lineage; staging leaves it out. Null for a live row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

log = logging.getLogger(__name__)

# The raw contract, exactly: what every producer (sample, CSV, API) must deliver.
ACCOUNTS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        ("account_name", pa.string()),
        ("base_currency", pa.string()),
        ("opened_at", pa.timestamp("us", tz="UTC")),
    ]
)
TRANSACTIONS_SCHEMA = pa.schema(
    [
        pa.field("transaction_id", pa.string(), nullable=False),
        ("account_id", pa.string()),
        ("executed_at", pa.timestamp("us", tz="UTC")),
        ("ticker", pa.string()),
        ("action", pa.string()),
        ("quantity", pa.decimal128(18, 6)),
        ("price", pa.decimal128(18, 6)),
        ("fees", pa.decimal128(18, 4)),
        ("amount", pa.decimal128(18, 4)),
        ("currency", pa.string()),
    ]
)
LINEAGE_FIELDS = [
    pa.field("source_file", pa.string()),
    pa.field("source_line", pa.int64()),
    pa.field("unparsed_values", pa.string()),
]
RETIREMENT_FIELDS = [
    pa.field("retired_at", pa.timestamp("us", tz="UTC")),
    pa.field("retired_reason", pa.string()),
]
LINEAGE_NAMES = {
    "source_file",
    "source_line",
    "unparsed_values",
    "conflicting_versions",
    "retired_at",
    "retired_reason",
}
RAW_ACCOUNTS_SCHEMA = pa.schema([*ACCOUNTS_SCHEMA, *LINEAGE_FIELDS])
RAW_TRANSACTIONS_SCHEMA = pa.schema(
    [
        *TRANSACTIONS_SCHEMA,
        *LINEAGE_FIELDS,
        pa.field("conflicting_versions", pa.int64()),
        *RETIREMENT_FIELDS,
    ]
)

ACCOUNT_COLUMNS = tuple(ACCOUNTS_SCHEMA.names)
TRANSACTION_COLUMNS = tuple(TRANSACTIONS_SCHEMA.names)
KEYS = {"accounts": "account_id", "transactions": "transaction_id"}
COLUMNS = {"accounts": ACCOUNT_COLUMNS, "transactions": TRANSACTION_COLUMNS}
RAW_SCHEMAS = {"accounts": RAW_ACCOUNTS_SCHEMA, "transactions": RAW_TRANSACTIONS_SCHEMA}


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 instant with an offset (`Z` or `+hh:mm`), in UTC; None if it is not one.

    A timestamp without an offset is refused: a broker's local time is ambiguous, and
    guessing a zone would silently move trades across session boundaries.
    """
    try:
        value = datetime.fromisoformat(text)
        return value.astimezone(UTC) if value.tzinfo is not None else None
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 is before year 1
        return None


def parse_decimal(text: str, scale: int, precision: int = 18) -> Decimal | None:
    """A plain decimal number rounded (half-even) to `scale`; None if it is not one, or does
    not fit DECIMAL(precision, scale) (the raw column's type).

    Never raises: the magnitude is checked before rounding, because rounding a value with
    more digits than the decimal context holds (28) raises InvalidOperation (`1e400`, or
    23 integer digits at scale 6), and one such cell once failed the whole load.
    """
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite():
        return None
    if value and value.adjusted() >= precision - scale:  # more integer digits than the column
        return None
    try:
        value = value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        return None
    return value if abs(value) < Decimal(10) ** (precision - scale) else None


def format_value(value: Any) -> str:
    """The text a broker export or API would carry for a typed value ('' for null)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _parsers(schema: pa.Schema) -> dict[str, Any]:
    def parser_for(type_: pa.DataType) -> Any:
        if pa.types.is_timestamp(type_):
            return parse_instant
        if pa.types.is_decimal(type_):
            return lambda text: parse_decimal(text, type_.scale, type_.precision)
        return lambda text: text

    return {f.name: parser_for(f.type) for f in schema if f.name not in LINEAGE_NAMES}


_PARSERS = {kind: _parsers(schema) for kind, schema in RAW_SCHEMAS.items()}


def _parse_cell(parse: Any, text: str) -> Any:
    """One cell's value, or None when it does not parse: a bad cell never fails the load."""
    try:
        return parse(text)
    except (ArithmeticError, ValueError, OverflowError) as error:
        log.warning("unparsed value %r: %s", text[:80], error)
        return None


def parse_record(kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """One delivered record -> the contract's typed values plus `unparsed_values`."""
    row: dict[str, Any] = {}
    unparsed: dict[str, str] = {}
    for column, parse in _PARSERS[kind].items():
        raw = record.get(column)
        text = "" if raw is None else str(raw).strip()
        value = _parse_cell(parse, text) if text else None
        if text and value is None:
            unparsed[column] = text
        row[column] = value
    row["unparsed_values"] = json.dumps(unparsed, sort_keys=True) if unparsed else None
    return row


@dataclass
class Delivered:
    """A parsed record and where it came from, in delivery order."""

    row: dict[str, Any]
    export: str  # the file, or the API run: conflicts are counted within one export
    source_file: str | None = None
    source_line: int | None = None


@dataclass
class Deduplicated:
    """The last version of each key, and how many delivered rows were dropped for it."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    duplicates_removed: int = 0


def _content(row: Mapping[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row.get(c) for c in (*columns, "unparsed_values"))


def keep_last_version(kind: str, delivered: Iterable[Delivered]) -> Deduplicated:
    """One row per key: the last delivered wins (a later export restates an earlier one).

    The same key delivered again with the same content is a re-export (overlapping files,
    a repeated line) and simply collapses. Different content within the *same* export is
    a contradiction the broker made: the last version is kept and the row says how many
    other versions there were (`conflicting_versions`), so dbt can reject it.
    """
    key, columns = KEYS[kind], COLUMNS[kind]
    last: dict[str, Delivered] = {}
    versions: dict[tuple[str, str], set[tuple[Any, ...]]] = {}
    count = 0
    for item in delivered:
        count += 1
        last[item.row[key]] = item
        versions.setdefault((item.export, item.row[key]), set()).add(_content(item.row, columns))
    result = Deduplicated(duplicates_removed=count - len(last))
    for value, item in last.items():
        row = dict(item.row, source_file=item.source_file, source_line=item.source_line)
        if kind == "transactions":
            row["conflicting_versions"] = len(versions[(item.export, value)]) - 1
        result.rows.append(row)
    return result


def raw_table(kind: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows in the raw shape (contract + lineage columns) as an arrow table."""
    return pa.Table.from_pylist(rows, schema=RAW_SCHEMAS[kind])


def widen(kind: str, table: pa.Table) -> pa.Table:
    """A contract-shaped arrow table with the lineage columns added as nulls (0 conflicts)."""
    table = table.cast(ACCOUNTS_SCHEMA if kind == "accounts" else TRANSACTIONS_SCHEMA)
    for f in RAW_SCHEMAS[kind]:
        if f.name not in table.column_names:
            fill = 0 if f.name == "conflicting_versions" else None
            table = table.append_column(f, pa.array([fill] * table.num_rows, type=f.type))
    return table

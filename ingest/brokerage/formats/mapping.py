"""Any other broker's CSV, described by a column-mapping file (TOML or YAML) dropped in the
inbox as `<name>.mapping.toml` (`.mapping.yaml`, `.mapping.yml`), or named on the command
line (`brokerage-csv --mapping FILE`, any name). How to write one: docs/brokerage.md
("Column-mapping files"); examples: tests/data/brokers/mapped/.

A mapping is a layout like Schwab's or Fidelity's: a CSV in the inbox whose header holds
every column the mapping names is read with it, so the CSV needs no flag either.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest.brokerage.formats.common import (
    ACTIONS,
    NOON,
    UNSUPPORTED_PREFIX,
    Record,
    RowBuilder,
    Table,
    TransactionIds,
    absolute,
    canonical,
    money_parser,
    read_records,
    table_rows,
)

SUFFIX = ".mapping.toml"
SUFFIXES = (SUFFIX, ".mapping.yaml", ".mapping.yml")  # what marks a mapping in the inbox
PREAMBLE_LINES = 15
LAYOUT_KEYS = {
    "name",
    "delimiter",
    "date_format",
    "time_format",
    "time_zone",
    "decimal_separator",
    "thousands_separator",
    "amount_sign",
    "account_id",
    "currency",
}
COLUMN_KEYS = {
    "transaction_id",
    "account_id",
    "executed_at",
    "time",
    "ticker",
    "action",
    "quantity",
    "price",
    "fees",
    "amount",
    "currency",
}
AMOUNT_SIGNS = {"signed", "inverted", "by_action"}
# "signed": negative = cash out of the account (ours). "inverted": the broker's sign is the
# other way round (positive = cash paid out, as some export a debit column). "by_action": the
# broker writes every amount as a positive number and the action says which way it went.
CASH_OUT = {"buy", "withdrawal", "fee", "withholding_tax"}


class MappingError(Exception):
    """The mapping file cannot be used; the message says what to fix."""


@dataclass
class Mapping:
    path: str  # relative to the inbox, as the audit shows it
    name: str
    fingerprint: str
    columns: dict[str, str]
    actions: dict[str, str]  # their word (casefolded) -> ours or unsupported
    delimiter: str = ","
    date_format: str = "%Y-%m-%d"
    time_format: str = "%H:%M:%S"
    time_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/New_York"))
    decimal_separator: str = "."
    thousands_separator: str = ""
    amount_sign: str = "signed"
    account_id: str | None = None
    currency: str | None = None

    @property
    def title(self) -> str:
        return f"mapping {self.path}"


def _document(path: Path, data: bytes) -> dict[str, Any]:
    """The file's tables: YAML for a .yaml/.yml name, TOML otherwise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MappingError(f"not UTF-8: byte at offset {error.start}") from error
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # PyYAML, installed with dbt and dlt

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise MappingError(f"not a YAML file: {' '.join(str(error).split())}") from error
        if document is None:
            document = {}
        if not isinstance(document, dict) or not all(
            isinstance(v, dict) for v in document.values()
        ):
            raise MappingError("a YAML mapping holds the tables layout, columns and actions")
        return document
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"not a TOML file: {error}") from error


def load_mapping(path: Path, relative: str) -> Mapping:
    """The mapping in `path` (TOML, or YAML by its name), checked; MappingError names the
    first problem."""
    data = path.read_bytes()
    document = _document(path, data)
    unknown_tables = set(document) - {"layout", "columns", "actions"}
    if unknown_tables:
        raise MappingError(f"unknown table(s) {', '.join(sorted(unknown_tables))}")
    layout: dict[str, Any] = document.get("layout", {})
    columns: dict[str, Any] = document.get("columns", {})
    actions: dict[str, Any] = document.get("actions", {})
    for table, keys, allowed in (
        ("layout", layout, LAYOUT_KEYS),
        ("columns", columns, COLUMN_KEYS),
    ):
        unknown = set(keys) - allowed
        if unknown:
            raise MappingError(f"unknown key(s) in [{table}]: {', '.join(sorted(unknown))}")
    if not all(isinstance(v, str) and v.strip() for v in (*layout.values(), *columns.values())):
        raise MappingError("every value in [layout] and [columns] must be a non-empty string")
    missing = [c for c in ("executed_at", "action") if c not in columns]
    if missing:
        raise MappingError(f"[columns] needs {', '.join(missing)}")
    for ours in ("account_id", "currency"):
        if (ours in layout) == (ours in columns):
            raise MappingError(
                f"{ours}: give either a constant ([layout] {ours}) or a column ([columns] {ours})"
            )
    if not actions:
        raise MappingError("[actions] is empty: map each of the broker's actions to ours")
    allowed_actions = (*ACTIONS, "unsupported")
    if not all(isinstance(k, str) for k in actions):
        raise MappingError("[actions]: every broker word must be text (quote it)")
    wrong = {k: v for k, v in actions.items() if v not in allowed_actions}
    if wrong:
        raise MappingError(
            f"[actions] {', '.join(f'{k} = {v!r}' for k, v in wrong.items())}: "
            f"an action is one of {', '.join(allowed_actions)}"
        )
    mapping = Mapping(
        path=relative,
        name=layout.get("name", _stem(Path(relative).name)),
        fingerprint=hashlib.sha256(data).hexdigest(),
        columns=dict(columns),
        actions={k.strip().casefold(): v for k, v in actions.items()},
        account_id=layout.get("account_id"),
        currency=layout.get("currency"),
    )
    for key in ("delimiter", "date_format", "time_format", "decimal_separator", "amount_sign"):
        if key in layout:
            setattr(mapping, key, layout[key])
    mapping.thousands_separator = layout.get("thousands_separator", "")
    if len(mapping.delimiter) != 1:
        raise MappingError("delimiter must be one character")
    if mapping.amount_sign not in AMOUNT_SIGNS:
        raise MappingError(f"amount_sign must be one of {', '.join(sorted(AMOUNT_SIGNS))}")
    if mapping.decimal_separator == mapping.thousands_separator:
        raise MappingError("decimal_separator and thousands_separator must differ")
    try:
        mapping.time_zone = ZoneInfo(layout.get("time_zone", "America/New_York"))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise MappingError(f"time_zone: not an IANA zone ({error})") from error
    return mapping


def _stem(name: str) -> str:
    for suffix in (*SUFFIXES, ".toml", ".yaml", ".yml"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def find(mapping: Mapping, text: str) -> Table | None:
    """The mapped table: the first line (within the first few) that has every mapped column."""
    records = read_records(text, mapping.delimiter)
    wanted = {c.strip().casefold() for c in mapping.columns.values()}
    for position, record in enumerate(records[:PREAMBLE_LINES]):
        names = [f.strip() for f in record.fields]
        while names and not names[-1]:
            names.pop()
        if wanted <= {n.casefold() for n in names}:
            return table_rows(mapping.name, names, _after(records, position))
    return None


def _after(records: Sequence[Record], position: int) -> Sequence[Record]:
    return records[position + 1 :]


def _cell(cells: dict[str, str], column: str | None) -> str:
    if column is None:
        return ""
    folded = column.strip().casefold()
    return next((v for k, v in cells.items() if k.casefold() == folded), "")


def _instant(mapping: Mapping, day_text: str, time_text: str) -> datetime | None:
    """The date (and time) in the mapping's zone, in UTC; a date alone counts at noon."""
    try:
        moment = datetime.strptime(day_text.strip(), mapping.date_format)
        if time_text.strip():
            clock = datetime.strptime(time_text.strip(), mapping.time_format).time()
            moment = datetime.combine(moment.date(), clock)
        elif not any(d in mapping.date_format for d in ("%H", "%I")):
            moment = datetime.combine(moment.date(), NOON)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=mapping.time_zone)
    return moment.astimezone(UTC)


def rows(mapping: Mapping, table: Table) -> list[tuple[int, dict]]:
    ids = TransactionIds(mapping.name)
    columns = mapping.columns
    separators = (mapping.decimal_separator, mapping.thousands_separator)
    parsers = {c: money_parser(c, *separators) for c in ("quantity", "price", "fees", "amount")}
    result = []
    for line, cells in table.rows:
        row = RowBuilder()
        account_id = mapping.account_id or _cell(cells, columns.get("account_id")) or None
        row.set("account_id", account_id)
        row.set(
            "currency", mapping.currency or _cell(cells, columns.get("currency")).upper() or None
        )
        day_text, time_text = (
            _cell(cells, columns["executed_at"]),
            _cell(cells, columns.get("time")),
        )
        executed_at = _instant(mapping, day_text, time_text) if day_text else None
        if day_text and executed_at is None:
            row.unparsed["executed_at"] = f"{day_text} {time_text}".strip()
        row.set("executed_at", executed_at)
        ticker = _cell(cells, columns.get("ticker"))
        row.set("ticker", ticker or None)
        their_action = " ".join(_cell(cells, columns["action"]).split())
        action = mapping.actions.get(their_action.casefold())
        if action == "unsupported":
            action = UNSUPPORTED_PREFIX + their_action
        elif action is None and their_action:
            row.unparsed["action"] = their_action
        row.set("action", action)
        theirs = {
            c: row.parse(c, _cell(cells, columns.get(c)), parsers[c])
            for c in ("quantity", "price", "fees", "amount")
        }
        if action in ("buy", "sell"):
            row.set("quantity", absolute(theirs["quantity"]))
        if mapping.amount_sign == "inverted" and theirs["amount"] is not None:
            row.set("amount", -theirs["amount"])
        if (
            mapping.amount_sign == "by_action"
            and theirs["amount"] is not None
            and action in ACTIONS
        ):
            magnitude = abs(theirs["amount"])
            row.set("amount", -magnitude if action in CASH_OUT else magnitude)
        if theirs["fees"] is not None:
            row.set("fees", abs(theirs["fees"]))  # some brokers write fees as negative cash
        given_id = _cell(cells, columns.get("transaction_id"))
        row.set(
            "transaction_id",
            given_id
            or ids.next(
                [
                    account_id or "",
                    canonical(executed_at, f"{day_text} {time_text}"),
                    their_action,
                    ticker,
                    *(canonical(theirs[c], _cell(cells, columns.get(c))) for c in theirs),
                ]
            ),
        )
        result.append((line, row.done()))
    return result

"""Broker CSV exports dropped into an inbox folder (format: docs/brokerage.md).

Each file is loaded once: its fingerprint (path and sha256) is kept in the resource's
dlt state, so a re-run skips it and a changed file is read again. The state is saved
with the load, so a run that fails before loading leaves the files to be read again.

A re-sent export replaces the file's rows: a transaction that an earlier version of the
same file (same path in the inbox) held and the new version does not is retired (kept in
raw with `retired_at` and `retired_reason` naming the file and the run; staging leaves it
out), unless another file of the same run delivers it.

A malformed file (wrong header, not UTF-8, truncated, broken quoting) is rejected whole
and recorded in the run's report with the reason; the other files load. A rejected file
is not remembered: every run reports it until it is fixed (then it is a changed file)
or removed. Bad *values* are not a malformed file: they land in raw (see records.py), and
the run counts them per file and column and ends partial (exit 3).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc

from ingest.audit import RunReport
from ingest.brokerage import formats
from ingest.brokerage.formats.common import LayoutError
from ingest.brokerage.records import (
    COLUMNS,
    KEYS,
    RAW_SCHEMAS,
    _content,
    parse_record,
    raw_table,
)
from ingest.brokerage.source import ACCOUNTS_HINTS, TRANSACTIONS_HINTS
from ingest.yfinance.source import MERGE_DEDUPLICATED

log = logging.getLogger(__name__)


class RejectedFile(Exception):
    """The file cannot be read as an export; the message is the reason recorded."""


@dataclass(frozen=True)
class ExportFile:
    path: Path
    name: str  # relative to the inbox: what the audit row and source_file show
    kind: str  # accounts or transactions
    data: bytes

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def export_kind(path: Path) -> str:
    """`accounts*.csv` is the accounts export; every other CSV file holds transactions, as
    does every XML file (Interactive Brokers' Flex Query in XML). Fidelity names its
    activity download `Accounts_History.csv`: transactions."""
    name = path.name.lower()
    is_accounts = (
        name.startswith("accounts")
        and not name.startswith("accounts_history")
        and path.suffix.lower() == ".csv"
    )
    return "accounts" if is_accounts else "transactions"


def find_exports(inbox: Path, kind: str) -> list[ExportFile]:
    """The inbox's CSV (and XML) files of one kind, in name order (later exports sort later).

    Hidden files and Excel's lock files (`~$name.csv`) are not exports.
    """
    found = []
    for path in sorted(inbox.rglob("*")):
        relative = path.relative_to(inbox)
        if (
            not path.is_file()
            or path.suffix.lower() not in (".csv", ".xml")
            or any(part.startswith((".", "~")) for part in relative.parts)
            or export_kind(path) != kind
        ):
            continue
        found.append(ExportFile(path, relative.as_posix(), kind, path.read_bytes()))
    return found


def read_export(export: ExportFile) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) of every record, one at a time, or RejectedFile with
    the reason. The whole file is checked before the first record comes out, so a file
    rejected at its last line yields nothing: no row of it is half loaded."""
    names = _checked_export(export)
    reader = csv.reader(_lines(export.data), strict=True)
    next(reader)
    for fields in reader:
        if fields:  # not a blank line
            yield reader.line_num, dict(zip(names, fields, strict=True))


def _lines(data: bytes) -> io.TextIOWrapper:
    """The file's lines, decoded chunk by chunk (io.StringIO would hold the whole text at
    4 bytes a character)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def _checked_export(export: ExportFile) -> list[str]:
    """The file's header names, after one pass over every line (no record kept)."""
    data = export.data
    if not data:
        raise RejectedFile("empty file (not even a header)")
    try:
        data.decode("utf-8-sig")  # only to name the offset of a bad byte; not kept
    except UnicodeDecodeError as error:
        raise RejectedFile(
            f"not UTF-8: byte 0x{data[error.start]:02x} at offset {error.start}"
        ) from error
    if not data.endswith((b"\n", b"\r")):
        raise RejectedFile("truncated: the last line has no line break")
    expected = COLUMNS[export.kind]
    reader = csv.reader(_lines(data), strict=True)
    try:
        names = [name.strip().lower() for name in next(reader)]
        missing = [c for c in expected if c not in names]
        unexpected = [n for n in names if n not in expected]
        if missing or unexpected or len(set(names)) != len(names):
            raise RejectedFile(
                f"wrong header for a {export.kind} export: "
                + "; ".join(
                    part
                    for part in (
                        missing and f"missing {', '.join(missing)}",
                        unexpected and f"unexpected {', '.join(unexpected)}",
                        len(set(names)) != len(names) and "a column appears twice",
                    )
                    if part
                )
            )
        for fields in reader:
            if fields and len(fields) != len(names):
                raise RejectedFile(
                    f"line {reader.line_num} has {len(fields)} fields, the header "
                    f"{len(names)} (truncated or malformed)"
                )
    except csv.Error as error:
        raise RejectedFile(f"malformed CSV at line {reader.line_num}: {error}") from error
    return names


BATCH_ROWS = 50_000  # rows per arrow batch: memory stays bounded whatever the file's size


class LastVersions:
    """keep_last_version (records.py) for a stream: rows are parsed into arrow batches as
    they are read, and each row leaves only an arrow index entry behind (its key, shared
    with the batch, its row number, export and a hash of its content); which version of
    each key is kept is decided from that index at the end by arrow's group-by. Memory
    grows with the arrow rows, not with Python objects per row or per id (measured:
    docs/benchmarks.md, "Figures that were code comments")."""

    def __init__(self, kind: str) -> None:
        self.kind, self.key, self.columns = kind, KEYS[kind], COLUMNS[kind]
        self.count = 0
        self.batches: list[tuple[int, pa.Table]] = []  # (row number of the first row, rows)
        self._index: list[pa.Table] = []  # per batch: key, export, content
        self._exports: list[str] = []
        self._pending: list[dict[str, Any]] = []
        self._contents: list[int] = []
        self._kept: Any = None  # per row number: -1 if superseded, else its conflicts

    def add(self, row: dict[str, Any], export: str, line: int) -> None:
        if not self._exports or self._exports[-1] != export:
            self._exports.append(export)
        self.count += 1
        self._contents.append(hash(_content(row, self.columns)))
        self._pending.append(dict(row, source_file=export, source_line=line))
        if len(self._pending) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            first = self.count - len(self._pending)
            table = raw_table(self.kind, self._pending)
            self.batches.append((first, table))
            exports = [len(self._exports) - 1] * table.num_rows
            if self._exports[-1] != self._pending[0]["source_file"]:  # the batch spans exports
                names = {name: i for i, name in enumerate(self._exports)}
                exports = [names[r["source_file"]] for r in self._pending]
            self._index.append(
                pa.table(
                    {
                        "key": table.column(self.key),
                        "export": pa.array(exports, pa.int32()),
                        "content": pa.array(self._contents, pa.int64()),
                    }
                )
            )
            self._pending, self._contents = [], []

    def _decide(self) -> Any:
        """Per row number: -1 for a version a later row of the same key superseded, else
        how many other contents its key had in the export that delivered it last."""
        import numpy as np

        self._flush()
        if self._kept is None:
            index = pa.concat_tables(self._index) if self._index else None
            kept = np.full(self.count, -1, dtype=np.int64)
            if index is not None and index.num_rows:
                index = index.append_column("row", pa.array(np.arange(self.count)))
                per_export = index.group_by(["key", "export"], use_threads=False).aggregate(
                    [("row", "max"), ("content", "count_distinct")]
                )
                # exports are read one after the other: a key's last row is in its last export
                last = per_export.group_by("key", use_threads=False).aggregate([("row_max", "max")])
                kept[last.column("row_max_max").to_numpy()] = 0
                several = per_export.filter(pc.greater(per_export["content_count_distinct"], 1))
                for row, contents in zip(
                    several["row_max"].to_pylist(),
                    several["content_count_distinct"].to_pylist(),
                    strict=True,
                ):
                    if kept[row] == 0:  # that export delivered the key's last version
                        kept[row] = contents - 1
            self._kept, self._index = kept, []
        return self._kept

    @property
    def duplicates_removed(self) -> int:
        return int(self.count - (self._decide() >= 0).sum())

    def keys(self) -> set[str]:
        """Every key delivered (read from the batches not yet handed out)."""
        return {k for _, table in self.batches for k in table.column(self.key).to_pylist()}

    def tables(self) -> Iterator[pa.Table]:
        """The last version of every key, batch by batch."""
        kept = self._decide()
        batches, self.batches = self.batches, []
        for first, table in batches:
            mine = kept[first : first + table.num_rows]
            table = table.filter(pa.array(mine >= 0))
            if self.kind == "transactions" and table.num_rows:
                at = table.schema.get_field_index("conflicting_versions")
                field = table.schema.field(at)
                table = table.set_column(at, field, pa.array(mine[mine >= 0], type=field.type))
            if table.num_rows:
                yield table


def _load_exports(
    inbox: Path, kind: str, report: RunReport, given: Sequence[formats.Mapping] = ()
) -> Iterator[pa.Table]:
    """New and changed files of one kind, parsed, deduplicated, as one arrow table.
    `given`: mappings named on the command line, layouts beside the inbox's own."""
    loaded: dict[str, str] = dlt.current.resource_state().setdefault("loaded_files", {})
    key = KEYS[kind]
    versions = LastVersions(kind)
    mappings: list[formats.Mapping] = []
    resent: list[str] = []  # files loaded before in another version: their rows are replaced
    if kind == "transactions":  # broker layouts plug in here: formats/ says which a file is
        mappings, broken = formats.find_mappings(inbox)
        mappings = [*given, *mappings]
        for name, reason in broken.items():  # its CSVs are then an unknown layout
            report.items_requested.append(name)
            report.fail(name, reason)
    for export in find_exports(inbox, kind):
        state_key, fingerprint = str(export.path.resolve()), export.fingerprint
        if loaded.get(state_key) == fingerprint:
            log.info("%s: loaded before, unchanged: skipped", export.name)
            continue
        try:
            detected = (
                formats.detect(export.name, export.data, mappings)
                if kind == "transactions"
                else None
            )
        except LayoutError as error:
            report.items_requested.append(export.name)
            report.fail(export.name, f"rejected: {error}")
            continue
        if detected is not None:  # a mapped file is read again when its mapping changes
            fingerprint += detected.fingerprint
            if loaded.get(state_key) == fingerprint:
                log.info("%s: loaded before, unchanged: skipped", export.name)
                continue
        report.items_requested.append(export.name)
        previously_loaded = state_key in loaded
        try:
            parsed = (
                detected.read()
                if detected is not None
                else ((line, parse_record(kind, record)) for line, record in read_export(export))
            )
            rows, keyless, first, last = 0, [], None, None
            unparsed: Counter[str] = Counter()
            for line, row in parsed:
                if row[key] is None:
                    keyless.append(line)
                    continue
                rows += 1
                if row["unparsed_values"] is not None:
                    unparsed.update(json.loads(row["unparsed_values"]).keys())
                versions.add(row, export.name, line)
                if (at := row.get("executed_at")) is not None:
                    first, last = min(first or at, at), max(last or at, at)
        except RejectedFile as error:  # raised before the file's first row (read_export)
            report.fail(export.name, f"rejected: {error}")
            continue
        if keyless:  # no key, no row: it could never be merged or corrected. The file loads.
            lines = ", ".join(map(str, keyless))
            report.fail(f"{export.name} line {lines}", f"no {key}: row skipped")
        report.received(export.name, rows, 0, first, last)
        report.unparsed(export.name, unparsed)  # loaded, and the run partial: docs/brokerage.md
        loaded[state_key] = fingerprint
        if previously_loaded and kind == "transactions":
            resent.append(export.name)
        log.info(
            "%s: %d %s rows (%s)",
            export.name,
            rows,
            kind,
            detected.layout if detected is not None else "project CSV",
        )
    report.duplicates_removed += versions.duplicates_removed
    delivered = versions.keys() if resent else set()  # a set of every id only when needed
    yield from versions.tables()
    retired = retire_missing_rows(resent, delivered, report)
    if retired:
        yield raw_table(kind, retired)


def live_rows(where: str, *args: Any, pipeline: Any = None) -> list[dict[str, Any]]:
    """Live (not retired) raw transactions matching `where` (a condition with %s
    parameters), read from the destination of `pipeline` (default: the one being run);
    [] before the table exists."""
    pipeline = pipeline or dlt.current.pipeline()
    with pipeline.sql_client() as client:
        with client.execute_query(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = 'transactions'",
            pipeline.dataset_name,
        ) as cursor:
            columns = {name for (name,) in cursor.fetchall()}
        if not columns:
            return []
        live = "retired_at is null" if "retired_at" in columns else "true"
        table = client.make_qualified_table_name("transactions")
        wanted = [f.name for f in RAW_SCHEMAS["transactions"] if f.name in columns]
        with client.execute_query(
            f"select {', '.join(wanted)} from {table} where {live} and ({where})", *args
        ) as cursor:
            return [dict(zip(wanted, values, strict=True)) for values in cursor.fetchall()]


def retire_missing_rows(resent: list[str], delivered: set[str], report: RunReport) -> list[dict]:
    """Rows of the earlier versions of `resent` files that their new versions (and every
    other file of this run) no longer hold, marked retired with the file and the run."""
    retired = []
    now = datetime.now(UTC)
    for name in resent:
        missing = [
            r for r in live_rows("source_file = %s", name) if r["transaction_id"] not in delivered
        ]
        for row in missing:
            row["retired_at"] = now
            row["retired_reason"] = (
                f"missing from {name} as re-sent (run {report.run_id}): the broker's corrected "
                "export no longer holds it"
            )
        if missing:
            ids = ", ".join(sorted(r["transaction_id"] for r in missing))
            print(f"{name}: re-sent without {ids}: retired", file=sys.stderr)
        retired += missing
    return retired


@dlt.source(name="brokerage", max_table_nesting=0)
def brokerage_csv(inbox: Path, report: RunReport, mappings: Sequence[formats.Mapping] = ()) -> Any:
    """Accounts and transactions from the broker's CSV exports in `inbox`; `mappings`: column
    mappings from outside the inbox (`--mapping FILE`), beside the inbox's own."""
    return (
        dlt.resource(_load_exports, **ACCOUNTS_HINTS)(inbox, "accounts", report),
        # one row per id already (LastVersions; a retired row is one no file delivered), so
        # dlt's merge skips its ROW_NUMBER() over every staged row (650 MB at 1 M rows)
        dlt.resource(
            _load_exports, **TRANSACTIONS_HINTS | {"write_disposition": MERGE_DEDUPLICATED}
        )(inbox, "transactions", report, list(mappings)),
    )

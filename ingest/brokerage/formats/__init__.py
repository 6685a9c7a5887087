"""Which layout a transactions export is in, judged by its content (docs/brokerage.md).

A file dropped in the inbox needs no flag: its header says what it is. The layouts, in the
order they are tried:

- the project's own CSV (`transaction_id,account_id,...`; ingest/brokerage/inbox.py),
- Schwab's transactions CSV (schwab.py), Fidelity's activity CSV (fidelity.py), Interactive
  Brokers' Flex Query CSV and XML (ibkr.py; an XML file is only ever that),
- every column-mapping file in the inbox (`*.mapping.toml`, `*.mapping.yaml`; mapping.py)
  and those named by `--mapping FILE`.

A file that is none of them is rejected in one line that names the layouts known; the
other files load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ingest.brokerage.formats import fidelity, ibkr, mapping, schwab
from ingest.brokerage.formats.common import LayoutError, Table, read_records
from ingest.brokerage.formats.mapping import Mapping, MappingError, load_mapping
from ingest.brokerage.records import TRANSACTION_COLUMNS

log = logging.getLogger(__name__)

BUILT_IN = (schwab, fidelity, ibkr)
NATIVE_TITLE = "project CSV (transaction_id,account_id,executed_at,...)"


@dataclass
class Detected:
    """A file's layout and how to read its rows; `fingerprint` extends the file's own
    sha256 when the rows depend on another file (a mapping), so editing it reloads them."""

    layout: str
    read: Callable[[], list[tuple[int, dict[str, Any]]]]
    fingerprint: str = ""


def find_mappings(inbox: Path) -> tuple[list[Mapping], dict[str, str]]:
    """The inbox's mapping files, and the reason for each that cannot be used."""
    found, broken = [], {}
    paths = {p for suffix in mapping.SUFFIXES for p in inbox.rglob(f"*{suffix}")}
    for path in sorted(paths):
        relative = path.relative_to(inbox)
        if not path.is_file() or any(p.startswith((".", "~")) for p in relative.parts):
            continue
        try:
            found.append(load_mapping(path, relative.as_posix()))
        except (MappingError, OSError) as error:
            broken[relative.as_posix()] = f"rejected mapping: {error}"
    return found, broken


def mapping_option(path: Path) -> Mapping:
    """A mapping named on the command line (`--mapping FILE`, anywhere, any name), checked:
    MappingError (or OSError) with the reason when it cannot be used."""
    return load_mapping(path, str(path))


def known_layouts(mappings: list[Mapping]) -> str:
    titles = [
        NATIVE_TITLE,
        *(m.TITLE for m in BUILT_IN),
        ibkr.XML_TITLE,
        *(m.title for m in mappings),
    ]
    return ", ".join(titles)


def decode(data: bytes) -> str:
    """The file's text; LayoutError when it is empty or not UTF-8 (with or without BOM)."""
    if not data:
        raise LayoutError("empty file (not even a header)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LayoutError(
            f"not UTF-8: byte 0x{data[error.start]:02x} at offset {error.start}"
        ) from error


def looks_native(text: str) -> bool:
    """At least half the project's columns in the first line: the project's CSV, even if
    its header is wrong (then inbox.py's message says which columns differ)."""
    first = next((r for r in read_records(text.split("\n", 1)[0] + "\n") if not r.is_blank), None)
    names = {f.strip().lower() for f in first.fields} if first else set()
    return len(names & set(TRANSACTION_COLUMNS)) * 2 >= len(TRANSACTION_COLUMNS)


def _check_complete(table: Table, text: str) -> Table:
    """A table that runs to the end of a file without its final line break was cut off."""
    runs_to_the_end = bool(table.rows) and table.rows[-1][0] >= text.count("\n") + 1
    if runs_to_the_end and not text.endswith(("\n", "\r")):
        raise LayoutError("truncated: the last line has no line break")
    return table


def detect(name: str, data: bytes, mappings: list[Mapping]) -> Detected | None:
    """The layout of a transactions export, None for the project's own CSV (inbox.py reads
    it), LayoutError when it is a broker layout that cannot be read, or none at all."""
    text = decode(data)
    if text.lstrip().startswith("<"):  # XML: Interactive Brokers' Flex Query in XML
        xml_table = ibkr.find_xml(text)
        if xml_table is not None:
            return Detected(f"{ibkr.NAME} xml", lambda: ibkr.rows(xml_table))
        raise LayoutError(f"unknown layout (XML); the layouts known: {known_layouts(mappings)}")
    if looks_native(text):
        return None
    records = read_records(text)
    for layout in BUILT_IN:
        table = layout.find(records, name)
        if table is not None:
            table = _check_complete(table, text)
            return Detected(layout.NAME, partial(layout.rows, table))
    matches = [(m, t) for m in mappings if (t := mapping.find(m, text)) is not None]
    if len(matches) > 1:
        raise LayoutError(
            "the header fits more than one mapping: "
            + ", ".join(m.path for m, _ in matches)
            + " (make their columns tell them apart)"
        )
    if matches:
        found, table = matches[0]
        table = _check_complete(table, text)
        return Detected(
            f"mapping {found.path}",
            lambda: mapping.rows(found, table),
            fingerprint=f"+{found.fingerprint}",
        )
    first = next((r for r in records if not r.is_blank), None)
    header = ",".join(f.strip() for f in first.fields)[:80] if first else ""
    raise LayoutError(
        f"unknown layout (first line {header!r}); the layouts known: {known_layouts(mappings)}"
    )

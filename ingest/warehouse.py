"""The warehouse file: create it readable by the reports, check it before writing, hand it to dlt.

DuckDB allows one writer per file. Every command checks the lock first so a second
writer gets one clear line instead of a stack trace from deep inside dlt or dbt.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from ingest.config import Warehouse

# The DuckDB inside Evidence (1.4) cannot open files written in DuckDB 2.x's newer
# storage format; the format is fixed when a file is created (docs/architecture.md).
STORAGE_COMPATIBILITY_VERSION = "v1.4.0"
# The storage version number DuckDB writes in the file header for that format.
STORAGE_VERSION_NUMBER = 67

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


class WarehouseError(Exception):
    """The warehouse cannot be used as asked; the message is one line for the user."""


def describe_lock_error(path: Path, error: Exception) -> str | None:
    """Return a one-line explanation when `error` is DuckDB's 'file is locked' error."""
    text = str(error)
    if "Could not set lock on file" not in text:
        return None
    holder = _LOCK_HOLDER.search(text)
    who = (
        f"process {holder['pid']} ({Path(holder['program']).name})" if holder else "another process"
    )
    return (
        f"warehouse {path} is locked by {who}: DuckDB allows one writer at a time; "
        "wait for that run (ingest, dbt or reports) to finish, then retry"
    )


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, turning DuckDB's lock error into a WarehouseError."""
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as error:
        message = describe_lock_error(path, error)
        if message:
            raise WarehouseError(message) from error
        raise WarehouseError(f"cannot open warehouse {path}: {error}") from error


def file_storage_version(path: Path) -> int:
    """The storage version number in a DuckDB file's header (bytes 8-11 'DUCK', 12-19 version)."""
    with path.open("rb") as f:
        header = f.read(20)
    if header[8:12] != b"DUCK":
        raise WarehouseError(f"{path} is not a DuckDB file")
    return int.from_bytes(header[12:20], "little")


def ensure_file(path: Path) -> bool:
    """Create the warehouse file (Evidence-readable format) if it is missing.

    Returns True when the file was created. An existing file is only checked for a lock.
    """
    if path.exists():
        connect(path).close()
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        duckdb.connect(
            str(path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION}
        ).close()
    except duckdb.Error as error:
        raise WarehouseError(f"cannot create warehouse {path}: {error}") from error
    return True


def check_ready(warehouse: Warehouse, *, must_exist: bool) -> None:
    """Fail with one line if the warehouse is missing (when it must exist) or locked."""
    if warehouse.is_motherduck:
        return  # MotherDuck has no local file or lock; credentials were checked in config.
    assert warehouse.path is not None
    if not warehouse.path.exists():
        if must_exist:
            raise WarehouseError(
                f"warehouse {warehouse.path} does not exist: load data first "
                "(`make ingest-sample` for the offline sample, `make ingest` for Yahoo Finance)"
            )
        return
    connect(warehouse.path).close()


def dlt_destination(warehouse: Warehouse):  # -> dlt Destination
    """The dlt destination for this warehouse; the file is created first if needed."""
    import dlt

    if warehouse.is_motherduck:
        return dlt.destinations.motherduck(
            credentials=f"md:{warehouse.motherduck_database}?motherduck_token={warehouse.motherduck_token}"
        )
    assert warehouse.path is not None
    ensure_file(warehouse.path)
    return dlt.destinations.duckdb(credentials=str(warehouse.path))

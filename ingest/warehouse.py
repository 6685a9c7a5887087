"""The warehouse file: create it readable by the reports, check it before writing, hand it to dlt.

DuckDB allows one writer per file. Every command checks the lock first so a second
writer gets one clear line instead of a stack trace from deep inside dlt or dbt.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

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
    except duckdb.Error as error:  # a damaged header or catalog fails at the open already
        text = " ".join(str(error).split())[:200]
        if "Corrupt" in text or "checksum" in text:
            raise WarehouseError(
                f"warehouse {path} is corrupted: {text} (restore a backup, or rebuild it: "
                "move it aside and load again)"
            ) from error
        raise WarehouseError(f"cannot open warehouse {path}: {text}") from error


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


# --- one writer for a whole run ------------------------------------------------------------
#
# DuckDB's own lock lasts only while a connection is open: dbt parses its project for
# seconds before it connects, and ingest opens and closes the file several times in a run,
# so a second writer starting in such a gap used to get in. Every writer therefore also holds
# an advisory lock (flock) on `<warehouse>.lock` from its first step to its last: the ingest
# commands themselves, and dbt and the reports build through `python -m ingest with-lock`.

LOCK_HELD_ENV = "INGEST_WAREHOUSE_LOCK_HELD"  # set for a command run under with-lock


def lock_file(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _lock_holder(lock: Path) -> str:
    try:
        pid, _, command = lock.read_text(encoding="utf-8").strip().partition(" ")
    except OSError:
        return "another process"
    return f"process {pid} ({command})" if pid.isdigit() else "another process"


def acquire_writer_lock(path: Path, command: str) -> int | None:
    """Take the warehouse's writer lock for the rest of this process (or until the returned
    descriptor is closed); one line naming the holder if another run has it.

    None when a parent `with-lock` already holds it for this file (its command runs us)."""
    if os.environ.get(LOCK_HELD_ENV) == str(path):
        return None
    lock = lock_file(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise WarehouseError(
            f"warehouse {path} is locked by {_lock_holder(lock)}: one writer at a time "
            "(ingest, dbt or reports); wait for that run to finish, then retry"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)
    return fd


@contextmanager
def writer_lock(warehouse: Warehouse, command: str) -> Iterator[None]:
    """Hold the writer lock of a local warehouse for the `with` block (MotherDuck: no-op)."""
    if warehouse.is_motherduck:
        yield
        return
    assert warehouse.path is not None
    fd = acquire_writer_lock(warehouse.path, command)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)


def exec_with_lock(warehouse: Warehouse, command: Sequence[str]) -> NoReturn:
    """Replace this process by `command`, which inherits the writer lock: it is held until
    the command (and anything it started) ends, and the command's exit code is ours."""
    if shutil.which(command[0]) is None:
        raise WarehouseError(f"cannot run {command[0]!r}: no such command")
    env = dict(os.environ)
    if not warehouse.is_motherduck:
        assert warehouse.path is not None
        fd = acquire_writer_lock(warehouse.path, _command_line(command))
        if fd is not None:
            os.set_inheritable(fd, True)  # exec keeps the pid, so the holder line stays true
        connect(warehouse.path).close()  # and no writer that bypasses the lock has the file
        env[LOCK_HELD_ENV] = str(warehouse.path)
    os.execvpe(command[0], list(command), env)


def _command_line(command: Sequence[str]) -> str:
    shown = [Path(command[0]).name, *command[1:3]]
    return " ".join(shown) + (" ..." if len(command) > 3 else "")


# --- sample and real data never share a file ------------------------------------------------
#
# A warehouse remembers what kind of data it holds in raw_ingest.data_kinds (one row per
# kind: `sample` for the synthetic generator and the mock broker, `real` for Yahoo, replayed
# Yahoo frames and broker exports). A load of the other kind is refused unless asked for.

DATA_KINDS_TABLE = "raw_ingest.data_kinds"
SAMPLE, REAL = "sample", "real"
# Warehouses written before the marker existed: their audit rows tell (the mock broker's
# `broker_api` rows could be either, so they do not count).
_KIND_OF_AUDIT_SOURCE = {
    "sample": SAMPLE,
    "yahoo_finance": REAL,
    "replay": REAL,
    "broker_csv_export": REAL,
}


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return row is not None and row[0] > 0


def data_kinds(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The kinds of data the warehouse holds: its marker, else what its audit rows say."""
    kinds: set[str] = set()
    if _has_table(con, "raw_ingest", "data_kinds"):
        kinds |= {k for (k,) in con.execute(f"select kind from {DATA_KINDS_TABLE}").fetchall()}
    if _has_table(con, "raw_ingest", "runs"):
        sources = con.execute("select distinct source from raw_ingest.runs").fetchall()
        kinds |= {_KIND_OF_AUDIT_SOURCE[s] for (s,) in sources if s in _KIND_OF_AUDIT_SOURCE}
    return kinds


def claim_data_kind(warehouse: Warehouse, kind: str, command: str, *, allow_mixing: bool) -> None:
    """Refuse to load `kind` into a warehouse holding the other kind (unless `allow_mixing`),
    then record `kind` in its marker. Run before anything is written."""
    if warehouse.is_motherduck:
        return  # one database per kind there: MOTHERDUCK_DATABASE
    assert warehouse.path is not None
    ensure_file(warehouse.path)
    with connect(warehouse.path) as con:
        held = data_kinds(con)
        others = held - {kind}
        if others and not allow_mixing:
            other = ", ".join(sorted(others))
            hint = (
                "the sample goes to its own file (make ingest-sample writes "
                "data/sample/warehouse.duckdb; or set WAREHOUSE_PATH)"
                if kind == SAMPLE
                else "load real data into another file (make ingest writes "
                "data/warehouse.duckdb; or set WAREHOUSE_PATH)"
            )
            raise WarehouseError(
                f"warehouse {warehouse.path} holds {other} data and this is a {kind} load: "
                f"{hint}, or pass --mix-sample-and-real to mix them on purpose"
            )
        con.execute("create schema if not exists raw_ingest")
        con.execute(
            f"create table if not exists {DATA_KINDS_TABLE} "
            "(kind varchar primary key, first_loaded_at timestamptz, first_command varchar)"
        )
        con.execute(
            f"insert into {DATA_KINDS_TABLE} values (?, now(), ?) on conflict do nothing",
            [kind, command],
        )


# --- the file is sound ------------------------------------------------------------------------


def verify_checksums(path: Path) -> int:
    """Read every column of every table, so DuckDB checks each data block's checksum (it
    does so on every read; CHECKPOINT and PRAGMA database_size do not read data blocks).
    Returns the number of tables read; WarehouseError saying 'corrupted' on a bad block."""
    try:
        with connect(path, read_only=True) as con:
            tables = con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where not internal and not temporary order by all"
            ).fetchall()
            for schema, table in tables:
                name = f"{_quote(schema)}.{_quote(table)}"
                try:
                    con.execute(f"select sum(hash(t)) from {name} as t").fetchall()
                except duckdb.Error as error:
                    raise WarehouseError(
                        f"warehouse {path} is corrupted: reading {schema}.{table} failed: "
                        f"{' '.join(str(error).split())[:200]} (restore a backup, or rebuild "
                        "it: move it aside and load again)"
                    ) from error
    except WarehouseError as error:
        if "corrupted" in str(error) or "locked" in str(error):
            raise
        raise WarehouseError(
            f"warehouse {path} is corrupted: {error} (restore a backup, or rebuild it)"
        ) from error
    return len(tables)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'

"""`python -m ingest with-lock -- COMMAND`: its options and its handler."""

from __future__ import annotations

import argparse

from ingest.config import Warehouse
from ingest.warehouse import check_ready, exec_with_lock


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    locked = sub.add_parser(
        "with-lock",
        parents=parents,
        help="run a command (dbt, the reports build) holding the warehouse's writer lock",
        description="Take the writer lock every ingest command takes, then run COMMAND in "
        "this process's place: a second writer (ingest, or another with-lock) is refused "
        "with one line for as long as COMMAND runs, including dbt's parse phase, before it "
        "opens the file. Exit code: COMMAND's; 1 with one line if the lock is taken or the "
        "warehouse does not exist. The Makefile runs dbt and the reports build this way.",
    )
    locked.add_argument(
        "run", nargs=argparse.REMAINDER, metavar="-- COMMAND ...", help="the command to run"
    )


def command(args: argparse.Namespace) -> list[str]:
    """The command to run, without the `--` that separates it from ours."""
    return args.run[1:] if args.run[:1] == ["--"] else args.run


def run(args: argparse.Namespace, warehouse: Warehouse) -> None:
    """Replaces this process with the command (exec): it returns only by an exception."""
    check_ready(warehouse, must_exist=True)
    exec_with_lock(warehouse, command(args))

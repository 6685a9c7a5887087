"""`python -m ingest check`: its options and its handler."""

from __future__ import annotations

import argparse
import sys

from ingest import audit
from ingest.config import Warehouse
from ingest.warehouse import verify_checksums


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "check",
        parents=parents,
        help="check that the warehouse exists, is sound and no other process is writing it",
        description="Exit 0 if the warehouse can be opened for writing and every table "
        "reads back (DuckDB verifies each data block's checksum as it reads it); otherwise "
        "one line that says why ('locked by', 'corrupted', 'does not exist'), and exit 1.",
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    if warehouse.path is None:
        print(f"warehouse {warehouse.describe()} is ready (MotherDuck)", file=sys.stderr)
        return audit.EXIT_OK
    tables = verify_checksums(warehouse.path)
    print(
        f"warehouse {warehouse.describe()} is ready: {tables} tables read back whole",
        file=sys.stderr,
    )
    return audit.EXIT_OK

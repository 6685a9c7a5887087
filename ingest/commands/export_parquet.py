"""`python -m ingest export-parquet`: its options and its handler."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest import audit
from ingest.config import ConfigError, Warehouse


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    lake = sub.add_parser(
        "export-parquet",
        parents=parents,
        help="export the raw bars to a Parquet lake partitioned by ticker and date",
        description="Write raw_yfinance.bars_1m as <DIR>/bars_1m/ticker=T/trade_date=D/ and "
        "bars_1d as <DIR>/bars_1d/ticker=T/year=Y/ (hive partitions). A re-export overwrites "
        "what it writes. Reads the local warehouse file only.",
    )
    lake.add_argument("--to", type=Path, required=True, metavar="DIR", help="lake folder")


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    from ingest.lake import export_bars

    if warehouse.path is None:
        raise ConfigError("export-parquet reads a local warehouse file, not the motherduck target")
    written = export_bars(warehouse.path, args.to)
    for table, rows in written.items():
        print(f"{table}: {rows} rows -> {args.to / table}", file=sys.stderr)
    return audit.EXIT_OK

"""`python -m ingest`: load market data and brokerage transactions into the warehouse.

Exit codes: 0 everything loaded; 1 the run could not start or the load failed
(configuration, locked or corrupted warehouse, sample and real data in one file);
2 bad command line; 3 partial success (some tickers or files failed, or a file's cells did
not parse: its rows loaded for dbt to reject; see the audit row); 4 nothing loaded.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest import audit
from ingest.audit import RunReport
from ingest.commands import (
    brokerage_api,
    brokerage_csv,
    brokerage_retire,
    check,
    export_parquet,
    sample,
    with_lock,
    yfinance,
)
from ingest.commands.options import OneLineParser, iso_date, ticker_list
from ingest.config import ConfigError, Warehouse, pipelines_dir, resolve_warehouse
from ingest.disk_full import DiskFull, describe, find_no_space
from ingest.intraday.command import add_parser as add_replay_parser
from ingest.session_check import add_parser as add_session_check_parser
from ingest.warehouse import REAL, SAMPLE, WarehouseError, check_ready, claim_data_kind, writer_lock

log = logging.getLogger("ingest")

# The commands that load data, each into a warehouse holding its kind (sample or real).
LOADERS: dict[str, Callable[[argparse.Namespace, Warehouse], list[RunReport]]] = {
    "sample": sample.run,
    "yfinance": yfinance.run,
    "brokerage-csv": brokerage_csv.run,
    "brokerage-api": brokerage_api.run,
}


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m ingest",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = OneLineParser(add_help=False)
    common.add_argument(
        "--warehouse",
        metavar="PATH",
        help="DuckDB file to load (default: $WAREHOUSE_PATH or data/warehouse.duckdb)",
    )
    common.add_argument(
        "--target",
        choices=("dev", "ci", "motherduck"),
        help="warehouse target as in profiles/profiles.yml (default: $WAREHOUSE_TARGET or dev); "
        "motherduck needs $MOTHERDUCK_TOKEN",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log every ticker and request")
    loading = OneLineParser(add_help=False, parents=[common])
    loading.add_argument(
        "--mix-sample-and-real",
        action="store_true",
        help="load even though the warehouse holds the other kind of data (the sample's "
        "synthetic data vs real data); without it such a load is refused (exit 1), as the "
        "two would merge on the same keys",
    )
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=OneLineParser
    )
    # In the order --help lists them; a loading command takes --mix-sample-and-real.
    sample.add_parser(sub, [loading])
    yfinance.add_parser(sub, [loading])
    brokerage_csv.add_parser(sub, [loading])
    brokerage_api.add_parser(sub, [loading])
    brokerage_retire.add_parser(sub, [common])
    add_replay_parser(sub, date_type=iso_date, ticker_list=ticker_list)
    add_session_check_parser(sub, date_type=iso_date)
    check.add_parser(sub, [common])
    with_lock.add_parser(sub, [common])
    export_parquet.add_parser(sub, [common])
    return parser


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("ingest").setLevel(logging.INFO if verbose else logging.WARNING)
    if not verbose:
        # dlt logs every retry of a failing job with its traceback (a full disk: 300 lines
        # before the cause); the run's own line names the cause, -v shows dlt's log too.
        os.environ.setdefault("RUNTIME__LOG_LEVEL", "CRITICAL")


def _worst_exit(reports: Sequence[RunReport]) -> int:
    order = [audit.EXIT_OK, audit.EXIT_PARTIAL, audit.EXIT_NOTHING_LOADED, audit.EXIT_ERROR]
    return max((r.exit_code for r in reports), key=order.index, default=audit.EXIT_OK)


def data_kind(args: argparse.Namespace) -> str:
    """What a loading command writes: the synthetic sample, or real data."""
    if args.command == "sample" or getattr(args, "sample", False):
        return SAMPLE
    return REAL


def _written_folders(args: argparse.Namespace) -> dict[str, Path]:
    """The folders a command writes: the warehouse's and dlt's working folder."""
    folders = {"dlt's working folder": pipelines_dir()}
    try:
        path = resolve_warehouse(getattr(args, "target", None), getattr(args, "warehouse", None))
    except ConfigError:
        return folders
    if path.path is not None:
        folders["warehouse"] = path.path.parent
    return folders


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        if args.command == "replay":  # two warehouses of its own: ingest/intraday/command.py
            from ingest.intraday.command import run as run_session_replay

            return run_session_replay(args)
        if args.command == "session-check":  # reads no warehouse: ingest/session_check.py
            from ingest.session_check import run as run_session_check

            return run_session_check(args)
        warehouse = resolve_warehouse(args.target, args.warehouse)
        if args.command == "with-lock":
            if not with_lock.command(args):
                parser.error("with-lock needs a command after --")
            with_lock.run(args, warehouse)  # replaces this process: no return
        pipelines_dir()  # refused before any work when dlt could not use it
        must_exist = args.command in ("check", "export-parquet", "brokerage-retire")
        if must_exist:
            check_ready(warehouse, must_exist=True)
        # The lock is held from here to the end of the run, across every connection.
        with writer_lock(warehouse, f"ingest {args.command}"):
            check_ready(warehouse, must_exist=must_exist)
            if args.command == "check":
                return check.run(args, warehouse)
            if args.command == "export-parquet":
                return export_parquet.run(args, warehouse)
            if args.command == "brokerage-retire":  # corrects what is there: no kind of its own
                reports = brokerage_retire.run(args, warehouse)
                for report in reports:
                    print(report.summary(), file=sys.stderr)
                return _worst_exit(reports)
            runner = LOADERS[args.command]
            claim_data_kind(
                warehouse,
                data_kind(args),
                f"ingest {args.command}",
                allow_mixing=args.mix_sample_and_real,
            )
            reports = runner(args, warehouse)
    except (ConfigError, WarehouseError, DiskFull) as error:
        print(f"error: {error}", file=sys.stderr)
        return audit.EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug or an environment problem: one line, details on -v
        if args.verbose:
            raise
        full = find_no_space(error)
        if full is not None:  # outside a load (creating the file, the sample's exports)
            print(f"error: {describe(full, folders=_written_folders(args))}", file=sys.stderr)
            return audit.EXIT_ERROR
        print(
            f"error: unexpected {type(error).__name__}: {error} (rerun with -v for details)",
            file=sys.stderr,
        )
        return audit.EXIT_ERROR
    for report in reports:
        print(report.summary(), file=sys.stderr)
    return _worst_exit(reports)

"""`python -m ingest brokerage-csv`: its options and its handler."""

from __future__ import annotations

import argparse
from pathlib import Path

from ingest.audit import RunReport
from ingest.commands.options import existing_file
from ingest.config import RAW_BROKERAGE, ConfigError, Warehouse


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    csv_parser = sub.add_parser(
        "brokerage-csv",
        parents=parents,
        help="load broker CSV exports (accounts and transactions) from an inbox folder",
        description="Load the broker's CSV exports in a folder (format: docs/brokerage.md). "
        "Each file is loaded once; a changed file is read again. A malformed file is "
        "rejected with the reason in the audit row and the others load (exit 3); exit 4 "
        "when every new file was rejected.",
    )
    csv_parser.add_argument(
        "--inbox",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder with the exports: accounts*.csv, and any other *.csv of transactions "
        "(sub-folders included; read in path order, so later exports must sort later)",
    )
    csv_parser.add_argument(
        "--mapping",
        type=existing_file,
        action="append",
        default=[],
        metavar="FILE",
        help="a column-mapping file (TOML, or YAML by a .yaml/.yml name) for another broker's "
        "CSV, kept outside the inbox; may be repeated. It works like the inbox's own "
        "*.mapping.toml/.yaml files: a CSV whose header holds its columns is read with it "
        "(docs/brokerage.md, 'Column-mapping files'). A mapping that cannot be used stops the "
        "run before anything loads (exit 1, one line saying what to fix)",
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
    from ingest.brokerage.inbox import brokerage_csv
    from ingest.runner import run_source

    inbox = args.inbox.expanduser().resolve()
    if not inbox.is_dir():
        raise ConfigError(f"inbox {inbox} is not a folder")
    from ingest.brokerage import formats

    mappings = []
    for path in args.mapping:
        try:
            mappings.append(formats.mapping_option(path))
        except (formats.MappingError, OSError) as error:
            raise ConfigError(f"mapping {path}: {error}") from error
    report = RunReport(pipeline="brokerage_csv", source="broker_csv_export", items="files")
    run_source(
        warehouse,
        report,
        brokerage_csv(inbox, report, mappings),
        pipeline_name="brokerage_csv",
        dataset=RAW_BROKERAGE,
    )
    return [report]

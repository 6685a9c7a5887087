"""`python -m ingest brokerage-retire`: its options and its handler."""

from __future__ import annotations

import argparse

from ingest.audit import RunReport
from ingest.config import ConfigError, Warehouse


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    retire = sub.add_parser(
        "brokerage-retire",
        parents=parents,
        help="remove or supersede brokerage transactions already loaded (audited)",
        description="Retire transactions: their rows stay in raw_brokerage.transactions with "
        "their lineage and gain retired_at and retired_reason (this command, its run id and "
        "your reason); staging leaves them out, so the next dbt build forgets them. The run "
        "has its audit row in raw_ingest.runs. An unknown or already retired id changes "
        "nothing (exit 1). A later export that holds the id again brings it back. "
        "(A re-sent export file retires the rows it no longer holds by itself.)",
    )
    retire.add_argument(
        "transaction_ids", nargs="+", metavar="TRANSACTION_ID", help="transactions to retire"
    )
    retire.add_argument(
        "--reason", required=True, metavar="TEXT", help="why, kept in retired_reason"
    )
    retire.add_argument(
        "--superseded-by",
        metavar="TRANSACTION_ID",
        help="the live transaction that replaces them (e.g. the broker re-booked a trade "
        "under a new id); without it they are simply removed",
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
    from ingest.brokerage.corrections import retire

    reason = " ".join(args.reason.split())
    if not reason:
        raise ConfigError("--reason must say why")
    return [retire(warehouse, args.transaction_ids, reason, args.superseded_by)]

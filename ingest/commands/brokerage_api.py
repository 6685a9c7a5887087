"""`python -m ingest brokerage-api`: its options and its handler."""

from __future__ import annotations

import argparse
from typing import Any

from ingest.audit import RunReport
from ingest.commands.options import positive
from ingest.config import RAW_BROKERAGE, ConfigError, Warehouse


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    api_parser = sub.add_parser(
        "brokerage-api",
        parents=parents,
        help="load accounts and new transactions from the broker's REST API",
        description="Load accounts and the transactions booked since the last run from the "
        "broker's REST API (docs/brokerage.md). The bearer token comes from "
        "$SOURCES__BROKERAGE_API__TOKEN or [sources.brokerage_api] token in "
        ".dlt/secrets.toml; it is never logged.",
    )
    api_parser.add_argument(
        "--base-url",
        metavar="URL",
        help="the API's base URL, e.g. http://127.0.0.1:8765 for the mock broker (default: "
        "$SOURCES__BROKERAGE_API__BASE_URL or [sources.brokerage_api] base_url in .dlt/)",
    )
    api_parser.add_argument(
        "--page-size", type=int, metavar="N", help="items per request (default: 500)"
    )
    api_parser.add_argument(
        "--sample",
        action="store_true",
        help="the API serves the sample world (the mock broker of `make demo`): its data "
        "counts as sample data, so it loads into a sample warehouse",
    )
    api_parser.add_argument(
        "--request-deadline",
        type=positive(float),
        metavar="SECONDS",
        help="total time one request may take, headers and body (the 30 s socket timeout is "
        "per read, so a server that drips bytes would never time out); past it the run "
        "fails (default: 120, or request_deadline_s under [sources.brokerage_api])",
    )
    api_parser.add_argument(
        "--run-deadline",
        type=positive(float),
        metavar="SECONDS",
        help="total time for all the run's requests, retries included; reached between "
        "pages, paging stops and what was fetched loads (exit 3); reached during a request, "
        "the run fails (exit 1) (default: 1800, or run_deadline_s)",
    )
    api_parser.add_argument(
        "--max-pages",
        type=positive(int),
        metavar="N",
        help="pages per endpoint and run; paging stops there and what was fetched loads "
        "(exit 3), the next run goes on (default: 10000, or max_pages). A next_cursor the API "
        "sent before also stops paging (exit 3)",
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
    from dlt.common.configuration.exceptions import ConfigFieldMissingException

    from ingest.brokerage.api import HttpRetry, brokerage_api
    from ingest.runner import run_source

    report = RunReport(
        pipeline="brokerage_api",
        source="broker_api",
        items_requested=["accounts", "transactions"],
        items="endpoints",
    )
    options: dict[str, Any] = {
        "base_url": args.base_url,
        "page_size": args.page_size,
        "request_deadline_s": args.request_deadline,
        "run_deadline_s": args.run_deadline,
        "max_pages": args.max_pages,
    }
    try:
        source = brokerage_api(
            report,
            HttpRetry.from_dlt_config(),
            **{k: v for k, v in options.items() if v is not None},
        )
    except ValueError as error:  # a bound set to 0 or less in dlt config
        raise ConfigError(f"[sources.brokerage_api]: {error}") from error
    except ConfigFieldMissingException as error:
        where = {
            "token": "export SOURCES__BROKERAGE_API__TOKEN=<token>, or set token under "
            "[sources.brokerage_api] in .dlt/secrets.toml (see .dlt/secrets.toml.example)",
            "base_url": "pass --base-url URL or export SOURCES__BROKERAGE_API__BASE_URL=<url>",
        }
        missing = [f for f in error.fields if f in where] or list(error.fields)
        raise ConfigError(
            f"the brokerage API needs {' and '.join(missing)}: "
            + "; ".join(where.get(f, f) for f in missing)
        ) from error
    run_source(warehouse, report, source, pipeline_name="brokerage_api", dataset=RAW_BROKERAGE)
    return [report]

"""`python -m ingest sample`: its options and its handler.

The sample world it loads (`sampleworld`: the generated market, the sample broker's
accounts and the mock broker) is development code in dev/ of the repository, not part of
the installed package: `make setup` installs it beside the project. The command loads it
through the same sources as real data: Yahoo's answers through yfinance's code, the
broker's exports through the CSV inbox.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

from ingest.audit import RunReport
from ingest.commands.options import iso_date, ticker_list
from ingest.config import RAW_BROKERAGE, RAW_YFINANCE, ConfigError, Warehouse


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    sample = sub.add_parser(
        "sample",
        parents=parents,
        help="generate the offline sample (market data and brokerage) and load it",
        description="Generate the deterministic offline sample with Yahoo's shapes and load it "
        "through the same dlt sources as the real data. Same seed and as-of date, same data.",
    )
    sample.add_argument(
        "--as-of",
        type=iso_date,
        metavar="DATE",
        help="last day of the sample world (default: the latest closed NYSE session)",
    )
    sample.add_argument(
        "--until",
        type=iso_date,
        metavar="DATE",
        help="load the sample world only through this day, as a daily run on that day would "
        "(default: the as-of date); run again with a later day to add sessions incrementally",
    )
    sample.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    sample.add_argument(
        "--tickers",
        type=ticker_list,
        metavar="T1,T2",
        help="a subset of the 20 sample tickers (default: all); the currency pair the sample's "
        "EUR account needs (EURUSD=X, daily bars) is loaded with any choice",
    )
    sample.add_argument(
        "--daily-years", type=int, default=3, metavar="N", help="years of daily bars (default: 3)"
    )
    sample.add_argument(
        "--minute-sessions",
        type=int,
        default=20,
        metavar="N",
        help="sessions of 1-minute bars, the latest ones (default: 20)",
    )
    sample.add_argument(
        "--no-defects",
        action="store_true",
        help="leave out the deliberate bad rows the quality gates must catch",
    )
    sample.add_argument(
        "--brokerage-inbox",
        type=Path,
        metavar="DIR",
        help="folder the sample writes its broker CSV exports to before loading them as "
        "`brokerage-csv` would (default: sample_brokerage_inbox in $INGEST_PIPELINES_DIR)",
    )


def _sample_world() -> ModuleType:
    """The dev tree's sample world, or a one-line error saying where it comes from."""
    try:
        import sampleworld.market
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] != "sampleworld":
            raise
        raise ConfigError(
            "the offline sample needs the development package `sampleworld` (dev/ in the "
            "repository): run `make setup` in a clone, or `pip install -e dev` there"
        ) from None
    return sampleworld.market


def run(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
    from ingest import calendar
    from ingest.runner import run_source
    from ingest.yfinance.replay import emulated_provider
    from ingest.yfinance.source import FetchPlan, market_data

    world = _sample_world()

    as_of = args.as_of or calendar.last_closed_session()
    known = {t.symbol for t in world.SAMPLE_UNIVERSE}
    unknown = sorted(set(args.tickers or ()) - known)
    if unknown:
        raise ConfigError(
            f"not in the sample universe: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    until = args.until or as_of
    if until > as_of:
        raise ConfigError(f"--until {until} is after the sample's as-of date {as_of}")
    # Yahoo as it answers on `until`: split-adjusted as of that day.
    market = world.SampleMarket(
        as_of,
        daily_years=args.daily_years,
        minute_sessions=args.minute_sessions,
        seed=args.seed,
        defects=not args.no_defects,
        request_day=until,
    )
    # The currency pairs the accounts need come with any choice of tickers (ingest/yfinance/fx.py).
    tickers = [*(args.tickers or market.tickers), *market.fx_symbols]
    plan = FetchPlan(
        end=until,
        daily_backfill_days=(until - market.first_daily_session).days,
        minute_backfill_days=(until - market.first_minute_session).days,
    )
    print(
        f"sample as of {as_of}: {len(tickers) - len(market.fx_symbols)} tickers and "
        f"{len(market.fx_symbols)} currency pairs, "
        f"{len(market.daily_sessions)} daily sessions, "
        f"{len(market.minute_sessions)} minute sessions -> {warehouse.describe()}",
        file=sys.stderr,
    )
    market_report = RunReport(
        pipeline="sample_market", source="sample", items_requested=list(tickers)
    )
    # Through yfinance's own code, as the live load: yf.download for daily bars of several
    # tickers (its naive daily index), Ticker.history in 7-day windows for minutes.
    provider = emulated_provider(market)
    run_source(
        warehouse,
        market_report,
        market_data(provider, list(tickers), plan, market_report),
        pipeline_name="sample_market",
        dataset=RAW_YFINANCE,
    )

    from ingest.config import pipelines_dir

    inbox = args.brokerage_inbox or pipelines_dir() / "sample_brokerage_inbox"
    return [market_report, load_sample_brokerage(market, warehouse, inbox, until=until)]


def load_sample_brokerage(
    market: Any, warehouse: Warehouse, inbox: Path, until: date | None = None
) -> RunReport:
    """Generate the sample's accounts and transactions (a `sampleworld.market.SampleMarket`'s),
    write them as broker CSV exports into `inbox`, and load them through the very inbox source
    real exports go through (so a re-run finds the files unchanged and skips them). With
    `until` before the sample's as-of date, only transactions executed through that New York
    day are exported, as a broker's export on that day would hold."""
    from zoneinfo import ZoneInfo

    import pyarrow as pa

    from ingest.brokerage.inbox import brokerage_csv
    from ingest.runner import run_source
    from sampleworld.brokerage import generate_brokerage, write_exports
    from sampleworld.market import EXCHANGE_TZ

    accounts, transactions = generate_brokerage(market)
    if until is not None and until < market.as_of:
        new_york = ZoneInfo(EXCHANGE_TZ)
        keep = [
            at is None or at.astimezone(new_york).date() <= until
            for at in transactions.column("executed_at").to_pylist()
        ]
        transactions = transactions.filter(pa.array(keep))
    write_exports(inbox, accounts, transactions, defects=market.defects)
    report = RunReport(pipeline="sample_brokerage", source="sample", items="files")
    return run_source(
        warehouse,
        report,
        brokerage_csv(inbox, report),
        pipeline_name="sample_brokerage",
        dataset=RAW_BROKERAGE,
    )

"""`python -m ingest yfinance`: its options and its handlers (live, and --replay)."""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
from pathlib import Path

from ingest.audit import RunReport
from ingest.commands.options import iso_date, ticker_list
from ingest.config import RAW_YFINANCE, ConfigError, Warehouse
from ingest.yfinance.fx import currency_code

DEFAULT_UNIVERSE = Path(__file__).parents[1] / "data" / "universe.csv"
log = logging.getLogger(__name__)


def _intervals(text: str) -> tuple[str, ...]:
    """Bar intervals, checked here so a bad one is a usage error (exit 2), as documented."""
    from ingest.yfinance.source import INTERVALS

    chosen = tuple(i.strip() for i in text.split(",") if i.strip())
    bad = [i for i in chosen if i not in INTERVALS]
    if bad or not chosen:
        named = ", ".join(bad) or repr(text)
        raise argparse.ArgumentTypeError(
            f"unknown interval(s) {named}: choose from {', '.join(INTERVALS)}"
        )
    return chosen


def _replay_folder(text: str) -> Path:
    folder = Path(text).expanduser()
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    return folder


def read_universe(path: Path) -> list[str]:
    """Tickers from a file: a CSV with a `ticker` column, or one ticker per line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read tickers file {path}: {error.strerror}") from error
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if lines and "ticker" in lines[0].lower().split(","):
        tickers = [
            row["ticker"].strip().upper() for row in csv.DictReader(lines) if row.get("ticker")
        ]
    else:
        tickers = [line.strip().upper() for line in lines]
    if not tickers:
        raise ConfigError(f"tickers file {path} lists no tickers")
    return list(dict.fromkeys(tickers))


def configured_universe(tickers_file: Path | None) -> list[str]:
    """The tickers to load: --tickers-file, else $INGEST_TICKERS (comma-separated), else
    $INGEST_TICKERS_FILE, else the shipped default universe."""
    if tickers_file is not None:
        return read_universe(tickers_file)
    if os.environ.get("INGEST_TICKERS", "").strip():
        return ticker_list(os.environ["INGEST_TICKERS"])
    return read_universe(Path(os.environ.get("INGEST_TICKERS_FILE") or DEFAULT_UNIVERSE))


def account_fx_pairs(warehouse: Warehouse) -> list[str]:
    """The Yahoo pairs (`EURUSD=X`) of the broker accounts' base currencies other than USD,
    Yahoo's hub: dbt converts every account into the reporting currency from them (directly,
    inverted or through USD; docs/portfolio.md, "Currencies"). None for a warehouse without
    accounts yet, or on MotherDuck (list the pairs in the tickers file there)."""
    from ingest.warehouse import connect
    from ingest.yfinance.fx import pairs_for

    if warehouse.is_motherduck or warehouse.path is None or not warehouse.path.exists():
        return []
    con = connect(warehouse.path)
    try:
        has_accounts = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'raw_brokerage' and table_name = 'accounts'"
        ).fetchone()
        if not has_accounts or not has_accounts[0]:
            return []
        rows = con.execute(
            "select distinct base_currency from raw_brokerage.accounts "
            "where base_currency is not null"
        ).fetchall()
    finally:
        con.close()
    currencies = set()
    for (code,) in rows:
        try:
            currencies.add(currency_code(code))
        except ValueError:
            log.warning("account currency %r is not a currency code: no FX pair for it", code)
    return pairs_for(currencies, "USD")


def add_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    yahoo = sub.add_parser(
        "yfinance",
        parents=parents,
        help="load bars and metadata from Yahoo Finance (needs the internet), or replay "
        "saved yfinance CSVs (--replay)",
        description="Load daily and 1-minute bars and ticker metadata from Yahoo Finance. "
        "Incremental from each ticker's watermark; --start/--end backfill a range. The currency "
        "pairs of the broker accounts' currencies (EURUSD=X for a EUR account) are added to the "
        "tickers, daily bars only. With "
        "--replay DIR, Yahoo's answers come from frames saved in DIR instead, through the same "
        "yfinance calls (no network).",
    )
    chosen = yahoo.add_mutually_exclusive_group()
    chosen.add_argument("--tickers", type=ticker_list, metavar="T1,T2", help="tickers to load")
    chosen.add_argument(
        "--tickers-file",
        type=Path,
        metavar="PATH",
        help="CSV with a ticker column, or one per line (default: $INGEST_TICKERS, then "
        f"$INGEST_TICKERS_FILE, then the shipped {DEFAULT_UNIVERSE.name})",
    )
    yahoo.add_argument(
        "--start", type=iso_date, metavar="DATE", help="backfill from this day (ignores watermarks)"
    )
    yahoo.add_argument(
        "--end",
        type=iso_date,
        metavar="DATE",
        help="last day to load (default: today; with --replay, the last recorded day); "
        "with --replay also the day Yahoo is taken to answer on: splits recorded after it "
        "are taken out of the prices again",
    )
    yahoo.add_argument(
        "--intervals",
        type=_intervals,
        default=("1d", "1m"),
        metavar="1d,1m",
        help="bar intervals to load (default: 1d,1m)",
    )
    yahoo.add_argument(
        "--replay",
        type=_replay_folder,
        metavar="DIR",
        help="answer every Yahoo request from saved frames instead of the network: "
        "DIR/<SYMBOL>.csv holds yf.Ticker(SYMBOL).history(auto_adjust=False, actions=True)"
        ".to_csv() (daily), optional <SYMBOL>.1m.csv minute bars and <SYMBOL>.info.json the "
        "Ticker.info dict. The tickers default to the recordings in DIR; an interval without "
        "recordings is skipped",
    )
    yahoo.add_argument(
        "--as-of",
        type=iso_date,
        metavar="DATE",
        help="with --replay: the day Yahoo is taken to answer on (default: --end, else the last "
        "recorded day). Bars after it do not exist yet and splits recorded after it are taken "
        "out of the prices again; a later --as-of than --end replays a backfill made after "
        "the range it asks for",
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
    from datetime import UTC, datetime

    from ingest.retry import ProviderUnavailable
    from ingest.runner import run_source
    from ingest.yfinance.provider import YahooProvider
    from ingest.yfinance.source import INTERVALS, FetchPlan, ProviderHealth, market_data

    bad = sorted(set(args.intervals) - set(INTERVALS))
    if bad:
        raise ConfigError(
            f"unknown interval(s) {', '.join(bad)}: choose from {', '.join(INTERVALS)}"
        )
    if args.replay is not None:
        return run_replay(args, warehouse)
    if args.as_of is not None:
        raise ConfigError("--as-of goes with --replay: a live request is answered today")
    tickers = args.tickers or configured_universe(args.tickers_file)
    # The accounts' currency pairs come with every load, as the sample's do.
    tickers = list(dict.fromkeys([*tickers, *account_fx_pairs(warehouse)]))
    end = args.end or datetime.now(UTC).date()
    if args.start and args.start > end:
        raise ConfigError(f"--start {args.start} is after --end {end}")
    plan = FetchPlan(end=end, start=args.start, intervals=args.intervals)
    report = RunReport(pipeline="yfinance", source="yahoo_finance", items_requested=list(tickers))
    provider, health = YahooProvider(), ProviderHealth(report)
    try:
        provider.check_reachable()
    except ProviderUnavailable as error:
        health.trip(str(error))  # every ticker is recorded as failed, the audit row says why
    run_source(
        warehouse,
        report,
        market_data(provider, tickers, plan, report, health),
        pipeline_name="yfinance",
        dataset=RAW_YFINANCE,
    )
    return [report]


def run_replay(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
    """`yfinance --replay DIR`: the same load, every request answered from DIR's recordings
    through the real yfinance calls (ingest/yfinance/replay.py); no reachability check, no
    network. Its own pipeline name keeps its watermarks apart from the live load's."""
    from ingest.runner import run_source
    from ingest.yfinance.replay import RecordedFrames, ReplayError, emulated_provider
    from ingest.yfinance.source import FetchPlan, market_data

    if args.as_of and args.end and args.end > args.as_of:
        raise ConfigError(f"--end {args.end} is after --as-of {args.as_of}: no bar exists yet")
    try:
        source = RecordedFrames(args.replay, request_day=args.as_of or args.end)
    except ReplayError as error:
        raise ConfigError(str(error)) from error
    recorded = source.intervals()
    for interval in args.intervals:
        if interval not in recorded:
            suffix = "*.1m.csv" if interval == "1m" else "*.csv"
            print(f"replay: no {suffix} in {args.replay}, so no {interval} bars", file=sys.stderr)
    intervals = tuple(i for i in args.intervals if i in recorded)
    if not intervals:
        raise ConfigError(f"{args.replay} holds no recordings of {', '.join(args.intervals)}")
    if args.tickers or args.tickers_file:
        tickers = args.tickers or configured_universe(args.tickers_file)
    else:
        tickers = source.tickers
    end = args.end or source.request_day
    if args.start and args.start > end:
        raise ConfigError(f"--start {args.start} is after the replay's last day {end}")
    # A first replay loads the whole recording (a live first load stops at 5 years).
    plan = FetchPlan(
        end=end,
        start=args.start,
        intervals=intervals,
        daily_backfill_days=max((end - source.first_day).days, 0),
    )
    print(
        f"replay of {args.replay} as answered on {source.request_day}, through {end}: "
        f"{len(tickers)} tickers, "
        f"{', '.join(intervals)} -> {warehouse.describe()}",
        file=sys.stderr,
    )
    report = RunReport(pipeline="yfinance_replay", source="replay", items_requested=list(tickers))
    run_source(
        warehouse,
        report,
        market_data(emulated_provider(source), tickers, plan, report),
        pipeline_name="yfinance_replay",
        dataset=RAW_YFINANCE,
    )
    return [report]

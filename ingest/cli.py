"""`python -m ingest`: load market data and brokerage transactions into the warehouse.

Exit codes: 0 everything loaded; 1 the run could not start or the load failed
(configuration, locked or corrupted warehouse, sample and real data in one file);
2 bad command line; 3 partial success (some tickers or files failed, or a file's cells did
not parse: its rows loaded for dbt to reject; see the audit row); 4 nothing loaded.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from ingest import audit
from ingest.audit import RunReport
from ingest.config import (
    RAW_BROKERAGE,
    RAW_YFINANCE,
    ConfigError,
    Warehouse,
    pipelines_dir,
    resolve_warehouse,
)
from ingest.disk_full import DiskFull, describe, find_no_space
from ingest.warehouse import (
    REAL,
    SAMPLE,
    WarehouseError,
    check_ready,
    claim_data_kind,
    exec_with_lock,
    verify_checksums,
    writer_lock,
)

log = logging.getLogger("ingest")

DEFAULT_UNIVERSE = Path(__file__).parent / "data" / "universe.csv"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(audit.EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def _ticker_list(text: str) -> list[str]:
    tickers = [t.strip().upper() for t in text.split(",") if t.strip()]
    if not tickers:
        raise argparse.ArgumentTypeError("give at least one ticker, e.g. SPY,AAPL")
    return tickers


def _positive(number: type[int] | type[float]):  # -> an argparse type
    def parse(text: str) -> int | float:
        try:
            value = number(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"not a positive {number.__name__}: {text!r}")
        return value

    return parse


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
        return _ticker_list(os.environ["INGEST_TICKERS"])
    return read_universe(Path(os.environ.get("INGEST_TICKERS_FILE") or DEFAULT_UNIVERSE))


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m ingest",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
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
    loading = argparse.ArgumentParser(add_help=False, parents=[common])
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

    sample = sub.add_parser(
        "sample",
        parents=[loading],
        help="generate the offline sample (market data and brokerage) and load it",
        description="Generate the deterministic offline sample with Yahoo's shapes and load it "
        "through the same dlt sources as the real data. Same seed and as-of date, same data.",
    )
    sample.add_argument(
        "--as-of",
        type=_date,
        metavar="DATE",
        help="last day of the sample world (default: the latest closed NYSE session)",
    )
    sample.add_argument(
        "--until",
        type=_date,
        metavar="DATE",
        help="load the sample world only through this day, as a daily run on that day would "
        "(default: the as-of date); run again with a later day to add sessions incrementally",
    )
    sample.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    sample.add_argument(
        "--tickers",
        type=_ticker_list,
        metavar="T1,T2",
        help="a subset of the 20 sample tickers (default: all)",
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

    yahoo = sub.add_parser(
        "yfinance",
        parents=[loading],
        help="load bars and metadata from Yahoo Finance (needs the internet), or replay "
        "saved yfinance CSVs (--replay)",
        description="Load daily and 1-minute bars and ticker metadata from Yahoo Finance. "
        "Incremental from each ticker's watermark; --start/--end backfill a range. With "
        "--replay DIR, Yahoo's answers come from frames saved in DIR instead, through the same "
        "yfinance calls (no network).",
    )
    chosen = yahoo.add_mutually_exclusive_group()
    chosen.add_argument("--tickers", type=_ticker_list, metavar="T1,T2", help="tickers to load")
    chosen.add_argument(
        "--tickers-file",
        type=Path,
        metavar="PATH",
        help="CSV with a ticker column, or one per line (default: $INGEST_TICKERS, then "
        f"$INGEST_TICKERS_FILE, then the shipped {DEFAULT_UNIVERSE.name})",
    )
    yahoo.add_argument(
        "--start", type=_date, metavar="DATE", help="backfill from this day (ignores watermarks)"
    )
    yahoo.add_argument(
        "--end",
        type=_date,
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
        type=_date,
        metavar="DATE",
        help="with --replay: the day Yahoo is taken to answer on (default: --end, else the last "
        "recorded day). Bars after it do not exist yet and splits recorded after it are taken "
        "out of the prices again; a later --as-of than --end replays a backfill made after "
        "the range it asks for",
    )

    _add_brokerage_parsers(sub, loading)
    _add_retire_parser(sub, common)
    from ingest.intraday.command import add_parser as add_replay_parser

    add_replay_parser(sub, date_type=_date, ticker_list=_ticker_list)
    from ingest.session_check import add_parser as add_session_check_parser

    add_session_check_parser(sub, date_type=_date)

    sub.add_parser(
        "check",
        parents=[common],
        help="check that the warehouse exists, is sound and no other process is writing it",
        description="Exit 0 if the warehouse can be opened for writing and every table "
        "reads back (DuckDB verifies each data block's checksum as it reads it); otherwise "
        "one line that says why ('locked by', 'corrupted', 'does not exist'), and exit 1.",
    )
    locked = sub.add_parser(
        "with-lock",
        parents=[common],
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

    lake = sub.add_parser(
        "export-parquet",
        parents=[common],
        help="export the raw bars to a Parquet lake partitioned by ticker and date",
        description="Write raw_yfinance.bars_1m as <DIR>/bars_1m/ticker=T/trade_date=D/ and "
        "bars_1d as <DIR>/bars_1d/ticker=T/year=Y/ (hive partitions). A re-export overwrites "
        "what it writes. Reads the local warehouse file only.",
    )
    lake.add_argument("--to", type=Path, required=True, metavar="DIR", help="lake folder")
    return parser


def _existing_file(text: str) -> Path:
    """An option naming a file that must exist (else a usage error: exit 2)."""
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


def _add_brokerage_parsers(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    csv_parser = sub.add_parser(
        "brokerage-csv",
        parents=[common],
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
        type=_existing_file,
        action="append",
        default=[],
        metavar="FILE",
        help="a column-mapping file (TOML, or YAML by a .yaml/.yml name) for another broker's "
        "CSV, kept outside the inbox; may be repeated. It works like the inbox's own "
        "*.mapping.toml/.yaml files: a CSV whose header holds its columns is read with it "
        "(docs/brokerage.md, 'Column-mapping files'). A mapping that cannot be used stops the "
        "run before anything loads (exit 1, one line saying what to fix)",
    )
    api_parser = sub.add_parser(
        "brokerage-api",
        parents=[common],
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
        type=_positive(float),
        metavar="SECONDS",
        help="total time one request may take, headers and body (the 30 s socket timeout is "
        "per read, so a server that drips bytes would never time out); past it the run "
        "fails (default: 120, or request_deadline_s under [sources.brokerage_api])",
    )
    api_parser.add_argument(
        "--run-deadline",
        type=_positive(float),
        metavar="SECONDS",
        help="total time for all the run's requests, retries included; paging stops there "
        "and what was fetched loads (exit 3) (default: 1800, or run_deadline_s)",
    )
    api_parser.add_argument(
        "--max-pages",
        type=_positive(int),
        metavar="N",
        help="pages per endpoint and run; paging stops there and what was fetched loads "
        "(exit 3), the next run goes on (default: 10000, or max_pages). A next_cursor the API "
        "sent before also stops paging (exit 3)",
    )


def _add_retire_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    retire = sub.add_parser(
        "brokerage-retire",
        parents=[common],
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


def run_brokerage_retire(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
    from ingest.brokerage.corrections import retire

    reason = " ".join(args.reason.split())
    if not reason:
        raise ConfigError("--reason must say why")
    return [retire(warehouse, args.transaction_ids, reason, args.superseded_by)]


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


def run_sample(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
    from ingest import calendar
    from ingest.runner import run_source
    from ingest.sample.market import SAMPLE_UNIVERSE, SampleMarket
    from ingest.yfinance.replay import emulated_provider
    from ingest.yfinance.source import FetchPlan, market_data

    as_of = args.as_of or calendar.last_closed_session()
    known = {t.symbol for t in SAMPLE_UNIVERSE}
    unknown = sorted(set(args.tickers or ()) - known)
    if unknown:
        raise ConfigError(
            f"not in the sample universe: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    until = args.until or as_of
    if until > as_of:
        raise ConfigError(f"--until {until} is after the sample's as-of date {as_of}")
    # Yahoo as it answers on `until`: split-adjusted as of that day.
    market = SampleMarket(
        as_of,
        daily_years=args.daily_years,
        minute_sessions=args.minute_sessions,
        seed=args.seed,
        defects=not args.no_defects,
        request_day=until,
    )
    tickers = args.tickers or market.tickers
    plan = FetchPlan(
        end=until,
        daily_backfill_days=(until - market.first_daily_session).days,
        minute_backfill_days=(until - market.first_minute_session).days,
    )
    print(
        f"sample as of {as_of}: {len(tickers)} tickers, "
        f"{len(market.daily_sessions)} daily sessions, "
        f"{len(market.minute_sessions)} minute sessions -> {warehouse.describe()}",
        file=sys.stderr,
    )
    market_report = RunReport(
        pipeline="sample_market", source="sample", tickers_requested=list(tickers)
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
    from ingest.sample.brokerage import load_sample_brokerage

    inbox = args.brokerage_inbox or pipelines_dir() / "sample_brokerage_inbox"
    return [market_report, load_sample_brokerage(market, warehouse, inbox, until=until)]


def run_brokerage_csv(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
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


def run_brokerage_api(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
    from dlt.common.configuration.exceptions import ConfigFieldMissingException

    from ingest.brokerage.api import brokerage_api
    from ingest.retry import RetryPolicy
    from ingest.runner import run_source

    report = RunReport(
        pipeline="brokerage_api",
        source="broker_api",
        tickers_requested=["accounts", "transactions"],
        items="endpoints",
    )
    options: dict[str, object] = {
        "base_url": args.base_url,
        "page_size": args.page_size,
        "request_deadline_s": args.request_deadline,
        "run_deadline_s": args.run_deadline,
        "max_pages": args.max_pages,
    }
    try:
        source = brokerage_api(
            report, RetryPolicy(), **{k: v for k, v in options.items() if v is not None}
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


def run_yfinance(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
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
        return run_yfinance_replay(args, warehouse)
    if args.as_of is not None:
        raise ConfigError("--as-of goes with --replay: a live request is answered today")
    tickers = args.tickers or configured_universe(args.tickers_file)
    end = args.end or datetime.now(UTC).date()
    if args.start and args.start > end:
        raise ConfigError(f"--start {args.start} is after --end {end}")
    plan = FetchPlan(end=end, start=args.start, intervals=args.intervals)
    report = RunReport(pipeline="yfinance", source="yahoo_finance", tickers_requested=list(tickers))
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


def run_yfinance_replay(args: argparse.Namespace, warehouse: Warehouse) -> list[RunReport]:
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
    report = RunReport(pipeline="yfinance_replay", source="replay", tickers_requested=list(tickers))
    run_source(
        warehouse,
        report,
        market_data(emulated_provider(source), tickers, plan, report),
        pipeline_name="yfinance_replay",
        dataset=RAW_YFINANCE,
    )
    return [report]


def run_export_parquet(args: argparse.Namespace, warehouse: Warehouse) -> int:
    from ingest.lake import export_bars

    if warehouse.path is None:
        raise ConfigError("export-parquet reads a local warehouse file, not the motherduck target")
    written = export_bars(warehouse.path, args.to)
    for table, rows in written.items():
        print(f"{table}: {rows} rows -> {args.to / table}", file=sys.stderr)
    return audit.EXIT_OK


def data_kind(args: argparse.Namespace) -> str:
    """What a loading command writes: the synthetic sample, or real data."""
    if args.command == "sample" or getattr(args, "sample", False):
        return SAMPLE
    return REAL


def _check(warehouse: Warehouse) -> int:
    if warehouse.path is None:
        print(f"warehouse {warehouse.describe()} is ready (MotherDuck)", file=sys.stderr)
        return audit.EXIT_OK
    tables = verify_checksums(warehouse.path)
    print(
        f"warehouse {warehouse.describe()} is ready: {tables} tables read back whole",
        file=sys.stderr,
    )
    return audit.EXIT_OK


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
    args = build_parser().parse_args(argv)
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
            command = args.run[1:] if args.run[:1] == ["--"] else args.run
            if not command:
                build_parser().error("with-lock needs a command after --")
            check_ready(warehouse, must_exist=True)
            exec_with_lock(warehouse, command)
        pipelines_dir()  # refused before any work when dlt could not use it
        must_exist = args.command in ("check", "export-parquet", "brokerage-retire")
        if must_exist:
            check_ready(warehouse, must_exist=True)
        # The lock is held from here to the end of the run, across every connection.
        with writer_lock(warehouse, f"ingest {args.command}"):
            check_ready(warehouse, must_exist=must_exist)
            if args.command == "check":
                return _check(warehouse)
            if args.command == "export-parquet":
                return run_export_parquet(args, warehouse)
            if args.command == "brokerage-retire":  # corrects what is there: no kind of its own
                reports = run_brokerage_retire(args, warehouse)
                for report in reports:
                    print(report.summary(), file=sys.stderr)
                return _worst_exit(reports)
            runner = {
                "sample": run_sample,
                "yfinance": run_yfinance,
                "brokerage-csv": run_brokerage_csv,
                "brokerage-api": run_brokerage_api,
            }[args.command]
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

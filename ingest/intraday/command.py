"""`python -m ingest replay`: its options and its handler."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import audit
from ingest.commands.options import positive
from ingest.config import DATA_DIR, ConfigError, Warehouse, resolve_warehouse
from ingest.warehouse import writer_lock

if TYPE_CHECKING:
    from ingest.intraday.feed import SessionFeed

DEFAULT_REPLAY_WAREHOUSE = DATA_DIR / "replay" / "warehouse.duckdb"


# In real time a batch starts as soon as a minute lands: a minute then waits for no other, and
# the minutes landing while dbt runs make the next batch (as large as dbt is slow). Without a
# clock (--speed max) every minute is due at once, so one minute a batch would only multiply
# dbt's fixed cost: there, a batch is this many minutes. docs/replay.md, "Batches".
MAX_SPEED_BATCH_MINUTES = 5


def batch_minutes_for(speed: float) -> int:
    """The default --batch-minutes at `speed` (minutes per real minute; inf for max)."""
    return MAX_SPEED_BATCH_MINUTES if math.isinf(speed) else 1


def _speed(text: str) -> float:
    if text.strip().lower() == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a speed (a positive number, or max): {text!r}")
    return value


def _recording_folder(text: str) -> Path:
    folder = Path(text).expanduser()
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    return folder


def add_parser(sub: argparse._SubParsersAction, *, date_type, ticker_list) -> None:
    parser = sub.add_parser(
        "replay",
        help="replay one session's minute bars in arrival order, transforming in micro-batches",
        description="Land one session's 1-minute bars into a replay warehouse minute by "
        "minute, at a chosen speed, through the same dlt merge as a real load, and rebuild "
        "the minute models with dbt every few landed minutes (one long-lived dbt process). "
        "The replay warehouse starts as a copy of the source without that session; the "
        "source is only read. Ends with latency percentiles and the backlog "
        "(docs/replay.md).",
    )
    parser.add_argument(
        "--session",
        type=date_type,
        metavar="DATE",
        help="the exchange-local day to replay (default: the latest day with minute bars in "
        "the source)",
    )
    parser.add_argument(
        "--speed",
        type=_speed,
        default=60.0,
        metavar="X",
        help="simulated minutes per real minute: 60 lands a market minute per second "
        "(default: 60); max lands without waiting",
    )
    parser.add_argument(
        "--batch-minutes",
        type=positive(int),
        default=None,
        metavar="N",
        help="run dbt once this many new minutes have landed (default: 1, a batch as soon as "
        f"a minute lands; with --speed max, {MAX_SPEED_BATCH_MINUTES}); minutes that land "
        "while a batch runs go into the next one, so batches grow when dbt is slower than the "
        "clock",
    )
    parser.add_argument(
        "--tickers", type=ticker_list, metavar="T1,T2", help="replay only these tickers"
    )
    parser.add_argument(
        "--minutes",
        type=positive(int),
        metavar="N",
        help="replay only the session's first N minutes (a short run; the rest of the session "
        "is not landed; default: the whole session)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--from-warehouse",
        metavar="PATH",
        help="the warehouse whose raw minutes are replayed, only read (default: "
        "$WAREHOUSE_PATH or data/warehouse.duckdb)",
    )
    source.add_argument(
        "--from-replay",
        type=_recording_folder,
        metavar="DIR",
        help="replay saved yfinance frames instead: the session's bars come from "
        "DIR/<SYMBOL>.1m.csv through yfinance's own history call (the replay seam of "
        "`ingest yfinance --replay`), and the replay warehouse starts from DIR's recordings "
        "up to the day before (daily bars, <SYMBOL>.info.json, earlier minutes); default "
        "session: the last day with minute recordings",
    )
    parser.add_argument(
        "--replay-warehouse",
        type=Path,
        metavar="PATH",
        default=Path(os.environ.get("REPLAY_WAREHOUSE_PATH") or DEFAULT_REPLAY_WAREHOUSE),
        help="the file the replay writes, replaced at the start (default: "
        "$REPLAY_WAREHOUSE_PATH or data/replay/warehouse.duckdb); never the source",
    )
    parser.add_argument(
        "--stats-json",
        type=Path,
        metavar="PATH",
        help="also write the run's figures to PATH as JSON: latency percentiles, every "
        "batch's minutes, landing and dbt times and backlog, whether it kept up, the baseline "
        "build's time (make bench reads it)",
    )
    view = parser.add_mutually_exclusive_group()
    view.add_argument(
        "--live", dest="live", action="store_true", default=None, help="the live panel"
    )
    view.add_argument(
        "--plain",
        dest="live",
        action="store_false",
        help="one line per batch (the default when stderr is not a terminal)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step")


def run(args: argparse.Namespace) -> int:
    """The whole replay; returns the exit code. Errors are raised as ConfigError (one line)."""
    if args.batch_minutes is None:
        args.batch_minutes = batch_minutes_for(args.speed)
    from ingest.intraday.feed import (
        SessionFeed,
        latest_session,
        prepare_replay_warehouse,
        read_session,
    )

    if args.from_replay is not None:
        return _run_recorded(args)
    source = resolve_warehouse(None, args.from_warehouse)
    if source.path is None:
        raise ConfigError("replay reads a local warehouse file, not the motherduck target")
    target = args.replay_warehouse.expanduser().resolve()
    work_dir = target.parent / f"{target.stem}_work"
    session: date = args.session or latest_session(source.path)
    feed = read_session(source.path, session, args.tickers)
    session_minutes = len(feed.arrivals)
    if args.minutes:
        feed = SessionFeed(session=feed.session, arrivals=feed.arrivals[: args.minutes])
    _announce(args, feed, str(source.path), target)
    replay_warehouse = Warehouse(target=source.target, path=target)
    with ExitStack() as held:
        # The source is only read, but no writer may change it while it is copied; the
        # replay warehouse is held for the whole run.
        with writer_lock(source, "ingest replay (copying it)"):
            held.enter_context(writer_lock(replay_warehouse, "ingest replay"))
            deleted = prepare_replay_warehouse(source.path, target, feed)
        print(
            f"copied the source and took out {deleted} minute rows from the session on; "
            "building the minute models without them (parse, then a full refresh)",
            file=sys.stderr,
        )
        return _replay(args, feed, replay_warehouse, work_dir, session_minutes)


def _run_recorded(args: argparse.Namespace) -> int:
    """`--from-replay DIR`: a fresh replay warehouse loaded from DIR's recordings up to the
    day before the session, then the session's minutes from DIR."""
    from ingest.intraday.feed import (
        SessionFeed,
        latest_recorded_session,
        prepare_recorded_warehouse,
        read_recorded_session,
    )

    folder: Path = args.from_replay
    target = args.replay_warehouse.expanduser().resolve()
    work_dir = target.parent / f"{target.stem}_work"
    session: date = args.session or latest_recorded_session(folder)
    feed = read_recorded_session(folder, session, args.tickers)
    session_minutes = len(feed.arrivals)
    if args.minutes:
        feed = SessionFeed(session=feed.session, arrivals=feed.arrivals[: args.minutes])
    _announce(args, feed, f"the recordings in {folder}", target)
    replay_warehouse = Warehouse(target="ci", path=target)
    with writer_lock(replay_warehouse, "ingest replay"):
        shutil.rmtree(work_dir / "dlt", ignore_errors=True)
        os.environ["INGEST_PIPELINES_DIR"] = str(work_dir / "dlt")  # the history load's too
        rows = prepare_recorded_warehouse(folder, target, session)
        print(
            f"loaded {rows} rows of history up to the day before the session from {folder}; "
            "building every model the minute models need (parse, then a full refresh)",
            file=sys.stderr,
        )
        return _replay(args, feed, replay_warehouse, work_dir, session_minutes, everything=True)


def _announce(args: argparse.Namespace, feed: SessionFeed, source: str, target: Path) -> None:
    print(
        f"replay of {feed.session} from {source} into {target}: {len(feed.tickers)} tickers, "
        f"{len(feed.arrivals)} minutes, {feed.bar_count} bars, speed "
        f"{'max' if math.isinf(args.speed) else f'{args.speed:g}x'}, dbt every "
        f"{args.batch_minutes} minutes",
        file=sys.stderr,
    )


def _replay(
    args: argparse.Namespace,
    feed: SessionFeed,
    warehouse: Warehouse,
    work_dir: Path,
    session_minutes: int,
    *,
    everything: bool = False,
) -> int:
    from ingest.intraday.alerts import SessionAlerts
    from ingest.intraday.replay import Lander, run_replay
    from ingest.intraday.transform import MinuteModels, TransformError
    from ingest.intraday.view import make_view

    assert warehouse.path is not None
    target = warehouse.path
    if not everything:
        shutil.rmtree(work_dir / "dlt", ignore_errors=True)  # dlt state of an earlier replay
        os.environ["INGEST_PIPELINES_DIR"] = str(work_dir / "dlt")  # the audit row's too
    report = audit.RunReport(
        pipeline="intraday_replay", source="session_replay", items_requested=feed.tickers
    )
    try:
        models = MinuteModels(target, work_dir)
        baseline = models.run(full_refresh=True, everything=everything)
        print(f"baseline built in {baseline:.1f} s; replaying", file=sys.stderr)
        lander = Lander(warehouse, work_dir / "dlt")
        alerts = SessionAlerts(target, feed.session)
        view = make_view(args.live, alerts)
        try:
            stats = run_replay(
                feed,
                lander.land,
                models.run,
                speed=args.speed,
                batch_minutes=args.batch_minutes,
                on_progress=view,
            )
        finally:
            view.close()
    except TransformError as error:
        report.error, report.load_failed = str(error), True
        audit.write_run(warehouse, report)
        raise ConfigError(f"{error} (the replay warehouse keeps what landed)") from error
    report.items_with_data = set(feed.tickers)
    report.rows_received = report.rows_written = stats.bars_landed
    audit.write_run(warehouse, report)
    for line in stats.summary_lines():
        print(line, file=sys.stderr)
    if args.stats_json:
        figures = stats.to_json() | {
            "baseline_seconds": baseline,
            "batch_minutes": args.batch_minutes,
            "session_minutes": session_minutes,
            "sliced": stats.minutes_total < session_minutes,
        }
        args.stats_json.parent.mkdir(parents=True, exist_ok=True)
        args.stats_json.write_text(json.dumps(figures, indent=1))
    counts = alerts.by_type()
    print(
        f"alerts: {sum(counts.values())}"
        + (" (" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")" if counts else ""),
        file=sys.stderr,
    )
    print(
        f"the replayed session is in {target}; query it, or point the reports at it with "
        f"WAREHOUSE_PATH={target}",
        file=sys.stderr,
    )
    return audit.EXIT_OK

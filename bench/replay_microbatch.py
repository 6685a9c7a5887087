"""dbt's `microbatch` incremental strategy against the range-delete batches, on the replay.

`python -m bench.replay_microbatch --from-warehouse PATH [--session DATE] [--repeat N]`
replays one session at max speed (a dbt batch every `--batch-minutes` landed minutes) twice
per repetition, side by side, alternating which goes first:

- **range delete** (what the project does): the minute models as they are; each batch is
  `dbt run --select stg_yfinance__bars_1m+` with `minute_lookback_sessions: 1`, every model
  deleting the current session in its pre-hook and appending it again;
- **microbatch**: a copy of the project in which the six incremental minute models use
  `incremental_strategy='microbatch'` (`event_time` their UTC minute column, `batch_size`
  day, `lookback` 0; no pre-hook, no `is_incremental()` filter: dbt filters each ref by the
  upstream's `event_time` instead), `stg_yfinance__bars_1m` declares `event_time='bar_at'`,
  and each batch runs with `--event-time-start`/`--event-time-end` set to the session's UTC
  day (microbatch otherwise takes its batches from the wall clock, not the replayed day).

Both start from the same baseline (the project's own full refresh without the session), land
the same minutes through the same dlt merge, and at the end the session's rows of every
minute mart are compared between the two. Results go to stdout as JSON and a short table.
Each replay runs in a child process of its own (dbt keeps global state per process).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.measure import REPO

STRATEGIES = ("range_delete", "microbatch")
# The incremental minute models and the column each one's microbatch event_time is.
MICROBATCH_MODELS = {
    "models/intermediate/market/int_bars_1m_validated.sql": "bar_at",
    "models/intermediate/market/int_bars_1m_aligned.sql": "bar_at",
    "models/intermediate/market/int_bars_5m_rolled_up.sql": "window_start_at",
    "models/marts/market/fct_bars_15m.sql": "window_start_at",
    "models/marts/market/fct_bars_60m.sql": "window_start_at",
    "models/marts/intraday/fct_intraday_alerts.sql": "bar_at",
}
STAGING = "models/staging/yfinance/stg_yfinance__bars_1m.sql"
COMPARED = {
    "marts.fct_bars_1m": "session_date",
    "marts.fct_bars_5m": "session_date",
    "marts.fct_bars_15m": "session_date",
    "marts.fct_bars_60m": "session_date",
    "marts.fct_intraday_features": "session_date",
    "marts.fct_intraday_alerts": "session_date",
}
_HOOK = re.compile(
    r"incremental_strategy='append',\s*pre_hook=\"\{\{ minute_range_delete\('\w+'\) \}\}\","
)
_FILTER = re.compile(r"\{% if is_incremental\(\) %\}.*?\{% endif %\}", re.S)


def microbatch_project(folder: Path) -> Path:
    """A copy of dbt_project/ with the minute models switched to microbatch."""
    project = folder / "dbt_project"
    shutil.rmtree(project, ignore_errors=True)
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages")
    shutil.copytree(REPO / "dbt_project", project, ignore=ignore, symlinks=True)
    for relative, event_time in MICROBATCH_MODELS.items():
        path = project / relative
        sql = path.read_text()
        config = (
            f"incremental_strategy='microbatch', event_time='{event_time}', "
            "batch_size='day', lookback=0, begin='2000-01-01',"
        )
        sql, hooks = _HOOK.subn(config, sql)
        sql, filters = _FILTER.subn("", sql)
        if hooks != 1 or not filters:
            raise RuntimeError(f"{relative}: its config or filter changed; update this script")
        path.write_text(sql)
    staging = project / STAGING
    staging.write_text("{{ config(event_time='bar_at') }}\n" + staging.read_text())
    return project


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One replay with one strategy; its figures as JSON."""
    from ingest.config import Warehouse
    from ingest.intraday.feed import prepare_replay_warehouse, read_session
    from ingest.intraday.replay import Lander, percentile, run_replay
    from ingest.intraday.transform import MinuteModels

    work = Path(args.work)
    target = work / "warehouse.duckdb"
    feed = read_session(Path(args.source), date.fromisoformat(args.session))
    prepare_replay_warehouse(Path(args.source), target, feed)
    os.environ["INGEST_PIPELINES_DIR"] = str(work / "dlt")
    baseline = MinuteModels(target, work / "baseline").run(full_refresh=True)
    if args.strategy == "microbatch":
        day = date.fromisoformat(args.session)
        window = [
            "--event-time-start",
            f"{day}T00:00:00",
            "--event-time-end",
            f"{day + timedelta(days=1)}T00:00:00",
        ]
        models = MinuteModels(
            target, work / "batches", project_dir=Path(args.project), batch_args=window
        )
    else:
        models = MinuteModels(target, work / "batches")
    lander = Lander(Warehouse(target="ci", path=target), work / "dlt")
    stats = run_replay(
        feed, lander.land, models.run, speed=math.inf, batch_minutes=args.batch_minutes
    )
    transform = [b.transform_seconds for b in stats.batches]
    return {
        "strategy": args.strategy,
        "baseline_seconds": baseline,
        "batches": len(transform),
        "dbt_seconds": transform,
        "dbt_p50": percentile(transform, 50),
        "dbt_total": sum(transform),
        "wall_seconds": stats.wall_seconds,
        "bars": stats.bars_landed,
        "warehouse": str(target),
    }


def session_rows(path: str, session: str) -> dict[str, list[tuple]]:
    import duckdb

    rows = {}
    with duckdb.connect(path, read_only=True) as con:
        for table, column in COMPARED.items():
            names = [r[0] for r in con.execute(f"describe {table}").fetchall()]
            columns = ", ".join(n for n in names if n != "load_id")
            rows[table] = con.execute(
                f"select {columns} from {table} where {column} = ? order by all", [session]
            ).fetchall()
    return rows


def same_rows(a: list[tuple], b: list[tuple]) -> bool:
    def same(x: object, y: object) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) or x == y
        return x == y

    return len(a) == len(b) and all(
        all(same(x, y) for x, y in zip(r, s, strict=True)) for r, s in zip(a, b, strict=True)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.replay_microbatch",
        description="Replay one session with the minute models' range-delete batches and with "
        "dbt's microbatch strategy, side by side; prints the dbt time per batch of each and "
        "whether the session's mart rows are equal.",
    )
    parser.add_argument(
        "--from-warehouse",
        required=True,
        metavar="PATH",
        help="the warehouse whose raw minutes are replayed (only read)",
    )
    parser.add_argument(
        "--session", metavar="DATE", help="the day to replay (default: the latest with minutes)"
    )
    parser.add_argument(
        "--batch-minutes",
        type=int,
        default=5,
        metavar="N",
        help="landed minutes per dbt batch (default: 5)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        metavar="N",
        help="replays per strategy, alternating which goes first (default: 2)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=REPO / "data" / "bench" / "microbatch",
        metavar="DIR",
        help="scratch folder (default: data/bench/microbatch)",
    )
    parser.add_argument("--child", choices=STRATEGIES, help=argparse.SUPPRESS)
    parser.add_argument("--project", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.strategy, args.source = args.child, args.from_warehouse
        print(json.dumps(child(args)))
        return 0

    from ingest.intraday.feed import latest_session

    source = Path(args.from_warehouse).resolve()
    session = args.session or latest_session(source).isoformat()
    work = args.work.resolve()
    project = microbatch_project(work)
    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in STRATEGIES}
    for rep in range(args.repeat):
        order = STRATEGIES if rep % 2 == 0 else STRATEGIES[::-1]
        for strategy in order:
            folder = work / f"{strategy}-{rep}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            load = os.getloadavg()[0]
            command = [
                sys.executable,
                "-m",
                "bench.replay_microbatch",
                "--child",
                strategy,
                "--from-warehouse",
                str(source),
                "--session",
                session,
                "--work",
                str(folder),
                "--project",
                str(project),
                "--batch-minutes",
                str(args.batch_minutes),
            ]
            result = subprocess.run(
                command,
                cwd=REPO,
                capture_output=True,
                text=True,
                env=os.environ | {"WAREHOUSE_TARGET": "ci", "DO_NOT_TRACK": "1"},
            )
            if result.returncode != 0:
                print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
                return 1
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            figures["load_average_1m_before"] = load
            runs[strategy].append(figures)
            print(
                f"{strategy:12} rep {rep}: {figures['batches']} batches, dbt p50 "
                f"{figures['dbt_p50']:.2f} s, total {figures['dbt_total']:.1f} s "
                f"(load {load:.1f})",
                file=sys.stderr,
            )
    a, b = (session_rows(runs[s][-1]["warehouse"], session) for s in STRATEGIES)
    equal = {table: same_rows(a[table], b[table]) for table in COMPARED}
    summary = {
        "session": session,
        "source": str(source),
        "batch_minutes": args.batch_minutes,
        "runs": runs,
        "median_dbt_p50": {s: statistics.median(r["dbt_p50"] for r in runs[s]) for s in runs},
        "median_dbt_total": {s: statistics.median(r["dbt_total"] for r in runs[s]) for s in runs},
        "equal_session_rows": equal,
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

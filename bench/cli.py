"""`python -m bench`: run the scales, keep the results as JSON, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import render
from bench.measure import REPO, ChildFailed
from bench.run import GROUPS, REPLAY_SPEEDS, ScaleRun, Settings
from bench.scales import SCALES

log = logging.getLogger("bench")


def _scales(text: str) -> list[str]:
    names = [s.strip().upper() for s in text.split(",") if s.strip()]
    unknown = [n for n in names if n not in SCALES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scale(s) {', '.join(unknown)}: choose from S, M, L"
        )
    return names


def _groups(text: str) -> tuple[str, ...]:
    names = tuple(g.strip() for g in text.split(",") if g.strip())
    unknown = [g for g in names if g not in GROUPS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown group(s) {', '.join(unknown)}: {GROUPS}")
    return names


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number >= 1: {text!r}")
    return int(text)


def _speeds(text: str) -> tuple[str, ...]:
    speeds = tuple(s.strip().lower() for s in text.split(",") if s.strip())
    for speed in speeds:
        if speed != "max" and not (speed.replace(".", "", 1).isdigit() and float(speed) > 0):
            raise argparse.ArgumentTypeError(f"not a speed (a positive number, or max): {speed}")
    return speeds


def build_parser() -> argparse.ArgumentParser:
    scales = "; ".join(f"{s.name}: {s.describe()}" for s in SCALES.values())
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of issue 9. For each scale: sample generation; ingest through "
        "dlt vs a bare DuckDB insert; full dbt builds (models only, with tests) vs the compiled "
        "SQL run bare vs a pandas implementation; the incremental build of one new day; the "
        "report source queries; optionally the reports build; EXPLAIN ANALYZE of the slowest "
        "model; the intraday replay of the new day at rising speeds (issue 16). "
        f"Scales: {scales}.",
        epilog="Exit status: 0 when every scale ran, 1 when a measured command failed (the "
        "results so far are still written).",
    )
    parser.add_argument(
        "--scales",
        type=_scales,
        default=["S", "M", "L"],
        metavar="S,M,L",
        help="scales to run, smallest first (default: S,M,L)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        metavar="N",
        help="runs of each compared measurement (default: 3)",
    )
    parser.add_argument(
        "--repeat-l",
        type=int,
        metavar="N",
        help="runs at L, where a run takes long (default: --repeat)",
    )
    parser.add_argument(
        "--reports-at",
        type=lambda s: [] if s.lower() == "none" else _scales(s),
        default=["L"],
        metavar="SCALES",
        help="scales at which to build the Evidence reports once (~1 min, ~3 GB each; "
        "default: L; 'none' to skip)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=REPO / "data" / "bench",
        metavar="DIR",
        help="scratch folder for warehouses, logs and results.json (default: data/bench; "
        "L needs ~15 GB free)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "docs" / "benchmarks.md",
        metavar="PATH",
        help="the Markdown file whose generated part is rewritten (default: docs/benchmarks.md)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the results of scales not run now from the existing results.json (to "
        "re-run one scale); the page then says when each scale ran",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="only rewrite --out from the existing results.json",
    )
    parser.add_argument(
        "--query-runs",
        type=int,
        default=20,
        metavar="N",
        help="timed runs of each report source query (default: 20)",
    )
    parser.add_argument(
        "--dbt-select",
        nargs="+",
        default=(),
        metavar="SELECTOR",
        help="run dbt on this selection only (the smoke test's shortcut; default: everything)",
    )
    parser.add_argument(
        "--only",
        type=_groups,
        default=GROUPS,
        metavar="GROUPS",
        help="run only these comparisons, e.g. incremental to measure a fix; the setup they "
        f"need runs first (default: {','.join(GROUPS)})",
    )
    parser.add_argument(
        "--replay-at",
        type=lambda s: [] if s.lower() == "none" else _scales(s),
        default=["S", "M"],
        metavar="SCALES",
        help="scales at which to replay the new day minute by minute (issue 16: S has 20 "
        "tickers, M 200; a whole session at 60x takes 6.5 min; default: S,M; 'none' to skip)",
    )
    parser.add_argument(
        "--replay-speeds",
        type=_speeds,
        default=REPLAY_SPEEDS,
        metavar="X,Y,...",
        help="replay speeds, climbed in this order while the backlog stays bounded; max (no "
        f"waiting) always runs (default: {','.join(REPLAY_SPEEDS)})",
    )
    parser.add_argument(
        "--replay-batch-minutes",
        type=_positive,
        default=None,
        metavar="N",
        help="the replay's --batch-minutes: a dbt batch every N landed minutes (default: the "
        "replay's own, a batch as soon as a minute lands, and 5 minutes a batch at max speed)",
    )
    parser.add_argument(
        "--replay-minutes",
        type=_positive,
        metavar="N",
        help="replay only the session's first N minutes (the smoke test's shortcut; the rows "
        "say so; default: the whole session)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip EXPLAIN ANALYZE")
    parser.add_argument(
        "--keep", action="store_true", help="keep the warehouses and generated frames"
    )
    return parser


def machine() -> dict[str, Any]:
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    packages = ("duckdb", "dbt-core", "dbt-duckdb", "dlt", "pandas", "pyarrow")
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
    return {
        "cores": os.cpu_count(),
        "memory_gib": memory_kib / 1024**2,
        "cpu": cpu,
        "versions": f"Python {platform.python_version()}, {versions}",
    }


def commit() -> str:
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    sha = git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--", "bench", "ingest", "dbt_project", "reports/sources")
    return (
        f"{sha} (with uncommitted changes in bench, ingest, dbt_project or reports)"
        if dirty
        else sha
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    work: Path = args.work.resolve()
    results_path = work / "results.json"
    if args.render_only:
        render.write(json.loads(results_path.read_text()), args.out)
        print(f"wrote {args.out}", file=sys.stderr)
        return 0

    results: dict[str, Any] = {"scales": {}}
    if args.merge and results_path.exists():
        previous = json.loads(results_path.read_text())
        results["scales"] = {k: v for k, v in previous["scales"].items() if k not in args.scales}
    command = shlex.join(["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])])
    results |= {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "commit": commit(),
        "command": command,
    }
    work.mkdir(parents=True, exist_ok=True)

    def record(scale_result: dict[str, Any]) -> None:
        results["scales"][scale_result["scale"]] = scale_result
        results["scales"] = {s: results["scales"][s] for s in SCALES if s in results["scales"]}
        results_path.write_text(json.dumps(results, indent=1))

    status = 0
    for name in args.scales:
        repeat = args.repeat_l if name == "L" and args.repeat_l else args.repeat
        settings = Settings(
            work=work,
            repeat=repeat,
            reports=name in args.reports_at,
            profile=not args.no_profile,
            query_runs=args.query_runs,
            dbt_select=tuple(args.dbt_select),
            keep=args.keep,
            groups=args.only,
            replay=name in args.replay_at,
            replay_speeds=args.replay_speeds,
            replay_minutes=args.replay_minutes,
            replay_batch_minutes=args.replay_batch_minutes,
        )
        try:
            ScaleRun(SCALES[name], settings, record).run()
        except ChildFailed as error:
            log.error("scale %s stopped: %s", name, error)
            status = 1
            break
    render.write(results, args.out)
    log.info("wrote %s (results: %s)", args.out, results_path)
    return status

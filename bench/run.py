"""The measurements of one scale, in order, each repeated side by side with its comparison."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import bare_sql, pandas_reference, polars_reference
from bench.measure import REPO, ChildFailed, Sample, run_command, run_task
from bench.scales import Scale
from ingest import calendar

log = logging.getLogger("bench")

DBT = str(Path(sys.executable).with_name("dbt"))
MODELS_ONLY = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
# "With tests" is what `make build` runs: the models and their data tests. Unit tests check the
# code on fixed inputs (CI runs them); the bare side runs no unit test either.
WITH_DATA_TESTS = ["--exclude-resource-type", "unit_test"]
REPORT_SOURCES = REPO / "reports" / "sources" / "warehouse"
# The comparisons. The setup runs before them: generation, then (for all but ingest) the
# history, a first build and the new day.
GROUPS = ("ingest", "full", "incremental", "queries", "replay")
# Issue 16: the replay's speeds, climbed in this order until one falls behind; `max` (no
# waiting) always runs and gives the throughput.
REPLAY_SPEEDS = ("60", "120", "240", "480", "max")


@dataclass(frozen=True)
class Settings:
    work: Path
    repeat: int
    reports: bool
    profile: bool = True
    query_runs: int = 20
    dbt_select: tuple[str, ...] = ()  # a narrower dbt selection (the smoke test); all by default
    keep: bool = False  # keep the warehouses and frames after the run
    groups: tuple[str, ...] = GROUPS  # which comparisons to run (the setup always runs)
    replay: bool = False  # replay the new day minute by minute at this scale (issue 16)
    replay_speeds: tuple[str, ...] = REPLAY_SPEEDS
    replay_minutes: int | None = None  # only the session's first N minutes (the smoke test)
    replay_batch_minutes: int | None = None  # None: the replay's own default


class ScaleRun:
    """Runs and records the measurements of one scale; `record` is called after each one
    so that a run that dies later keeps what it measured."""

    def __init__(self, scale: Scale, settings: Settings, record: Any) -> None:
        self.scale = scale
        self.settings = settings
        self.folder = settings.work / scale.name
        self.record = record
        self.result: dict[str, Any] = {
            "scale": scale.name,
            "describe": scale.describe(),
            "repeat": settings.repeat,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average": {"start": os.getloadavg()},
            "measures": {},
        }

    # -- paths and environments -----------------------------------------------------------

    @property
    def warehouse(self) -> Path:
        return self.folder / "warehouse" / "warehouse.duckdb"

    @property
    def frames(self) -> Path:
        return self.folder / "frames"

    def env(self, warehouse: Path | None = None) -> dict[str, str]:
        """Ingest and dbt on `warehouse` (default: the scale's), as tests/pipeline.py does."""
        warehouse = warehouse or self.warehouse
        return os.environ | {
            "WAREHOUSE_PATH": str(warehouse),
            "INGEST_PIPELINES_DIR": str(warehouse.parent / "dlt"),
            "WAREHOUSE_TARGET": "ci",
            "DBT_PROFILES_DIR": str(REPO / "profiles"),
            "DBT_PROJECT_DIR": str(REPO / "dbt_project"),
            "DBT_TARGET_PATH": str(self.folder / "dbt_target"),
            "DBT_LOG_PATH": str(self.folder / "dbt_logs"),
            "DO_NOT_TRACK": "1",
            "PYTHONPATH": str(REPO),
        }

    # -- recording ------------------------------------------------------------------------

    def add(self, measure: str, sample: Sample) -> Sample:
        sample.detail.setdefault("load_average_1m", os.getloadavg()[0])
        self.result["measures"].setdefault(measure, []).append(sample.to_json())
        log.info(
            "%s %-28s %8.2f s  (wall %.2f s, peak %.0f MiB)",
            self.scale.name,
            measure,
            sample.seconds,
            sample.wall_seconds,
            sample.peak_rss_mib,
        )
        self.record(self.result)
        return sample

    def task(
        self,
        measure: str,
        task: str,
        arguments: dict[str, Any],
        *,
        env: dict[str, str] | None = None,
        rep: int = 0,
    ) -> Sample:
        sample = run_task(
            task,
            arguments,
            env=env or self.env(),
            folder=self.folder / "logs",
            name=f"{measure}-{rep}",
        )
        return self.add(measure, sample)

    def dbt(self, measure: str, *args: str, rep: int = 0) -> Sample:
        command = [DBT, "build", "--target", "ci", *args]
        if self.settings.dbt_select:
            # cautious: a test runs only when every model it reads is selected
            command += ["--select", *self.settings.dbt_select, "--indirect-selection", "cautious"]
        sample = run_command(
            command, env=self.env(), folder=self.folder / "logs", name=f"{measure}-{rep}"
        )
        results = self.folder / "dbt_target" / "run_results.json"
        kept = self.folder / "run_results" / f"{measure}-{rep}.json"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(results, kept)
        run_results = json.loads(results.read_text())
        sample.detail["dbt_elapsed_seconds"] = run_results["elapsed_time"]
        sample.detail["nodes"] = len(run_results["results"])
        sample.detail["execution_seconds"] = {
            r["unique_id"]: r["execution_time"] for r in run_results["results"]
        }
        return self.add(measure, sample)

    # -- the steps ------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        as_of = self.scale.as_of
        day_before = calendar.sessions(as_of - timedelta(days=10), as_of)["session_date"].iloc[-2]
        self.result["new_day"] = as_of.isoformat()

        log.info("%s: generating the sample (%s)", self.scale.name, self.scale.describe())
        self.task("generate", "generate", {"scale": self.scale.name, "frames": str(self.frames)})
        groups = self.settings.groups
        if "ingest" in groups:
            self.ingest_side_by_side(as_of)
        replays = "replay" in groups and self.settings.replay
        if set(groups) - {"ingest", "replay"} or self.settings.reports or replays:
            self.build_warehouse(day_before, as_of)
        if "full" in groups:
            self.full_builds_side_by_side()
        if "incremental" in groups:
            self.incremental_builds()
        if "queries" in groups:
            self.report_queries()
        if "replay" in groups and self.settings.replay:
            self.replays(as_of)
        if self.settings.reports:
            self.reports_build()
        if self.settings.profile and self.result["measures"].get("dbt_models_full"):
            self.explain_slowest_model()
        self.result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.result["load_average"]["end"] = os.getloadavg()
        self.record(self.result)
        if not self.settings.keep:
            for path in (self.frames, self.folder / "warehouse", self.folder / "incremental-start"):
                shutil.rmtree(path, ignore_errors=True)
        return self.result

    def ingest_side_by_side(self, until: Any) -> None:
        """dlt vs a bare DuckDB insert of the same arrow tables, into fresh warehouses,
        alternating which goes first."""
        for rep in range(self.settings.repeat):
            order = ("dlt", "bare") if rep % 2 == 0 else ("bare", "dlt")
            for side in order:
                folder = self.folder / "scratch" / f"{side}-{rep}"
                warehouse = folder / "warehouse.duckdb"
                arguments = {
                    "scale": self.scale.name,
                    "frames": str(self.frames),
                    "warehouse": str(warehouse),
                    "until": until.isoformat(),
                }
                task = "load-dlt" if side == "dlt" else "load-bare"
                self.task(f"ingest_{side}", task, arguments, env=self.env(warehouse), rep=rep)
                shutil.rmtree(folder)

    def build_warehouse(self, day_before: Any, new_day: Any) -> None:
        """History up to the day before (with the sample brokerage), a first dbt build, then
        the new day; the state before the incremental build is kept for its repeats."""
        common = {
            "scale": self.scale.name,
            "frames": str(self.frames),
            "warehouse": str(self.warehouse),
        }
        self.task(
            "ingest_history",
            "load-dlt",
            common
            | {"until": day_before.isoformat(), "brokerage_inbox": str(self.folder / "inbox")},
        )
        self.dbt("dbt_first_build", *MODELS_ONLY)  # tests would not change the state
        self.task("ingest_new_day", "load-dlt", common | {"until": new_day.isoformat()})
        snapshot = self.folder / "incremental-start" / "warehouse.duckdb"
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.warehouse, snapshot)

    def full_builds_side_by_side(self) -> None:
        compiled = self.folder / "compiled"
        for rep in range(self.settings.repeat):
            self.dbt("dbt_models_full", "--full-refresh", *MODELS_ONLY, rep=rep)
            self.dbt("dbt_build_full", "--full-refresh", *WITH_DATA_TESTS, rep=rep)
            if rep == 0:  # the compiled SQL of a full-refresh build: the floor's input
                compiled.mkdir(exist_ok=True)
                shutil.copyfile(
                    self.folder / "dbt_target" / "manifest.json", compiled / "manifest.json"
                )
                shutil.copyfile(
                    self.folder / "dbt_target" / "run_results.json", compiled / "run_results.json"
                )
            bare = self.task(
                "bare_build",
                "bare-sql",
                {
                    "warehouse": str(self.warehouse),
                    "manifest": str(compiled / "manifest.json"),
                    "run_results": str(compiled / "run_results.json"),
                    "project_dir": str(REPO / "dbt_project"),
                },
                rep=rep,
            )
            scope = bare_sql.lineage(compiled / "manifest.json", list(pandas_reference.KEYS))
            self.add(
                "bare_pandas_scope",
                Sample(
                    seconds=sum(t for uid, t in bare.detail["per_node"].items() if uid in scope),
                    wall_seconds=bare.wall_seconds,
                    peak_rss_mib=bare.peak_rss_mib,
                    detail={"note": "the nodes of bare_build that pandas also computes"},
                ),
            )
            models_only = Sample(
                seconds=bare.detail["models_seconds"],
                wall_seconds=bare.wall_seconds,
                peak_rss_mib=bare.peak_rss_mib,
                detail={"note": "the models part of bare_build, same run"},
            )
            self.add("bare_models", models_only)
            self.task(
                "pandas",
                "pandas",
                {
                    "warehouse": str(self.warehouse),
                    "output": str(self.folder / "scratch" / "pandas.duckdb"),
                    "check": rep == 0,
                },
                rep=rep,
            )
            # Issue 15: the minute outputs against their floor and polars, the SQL's share of
            # the same bare run as above (every node they need, from the raw minutes on).
            minute_scope = bare_sql.lineage(
                compiled / "manifest.json", list(polars_reference.OUTPUTS)
            )
            self.add(
                "bare_minute_scope",
                Sample(
                    seconds=sum(
                        t for uid, t in bare.detail["per_node"].items() if uid in minute_scope
                    ),
                    wall_seconds=bare.wall_seconds,
                    peak_rss_mib=bare.peak_rss_mib,
                    detail={"note": "the nodes of bare_build the minute outputs need"},
                ),
            )
            scratch = self.folder / "scratch"
            self.task(
                "polars",
                "polars",
                {
                    "warehouse": str(self.warehouse),
                    "output": str(scratch / "polars.duckdb"),
                    "check": rep == 0,
                },
                rep=rep,
            )
            self.task(
                "minute_floor",
                "minute-floor",
                {"warehouse": str(self.warehouse), "output": str(scratch / "floor.duckdb")},
                rep=rep,
            )

    def incremental_builds(self) -> None:
        """The new day through dbt, from the state the first build left, models only and
        then with tests, each from a fresh copy of that state."""
        snapshot = self.folder / "incremental-start" / "warehouse.duckdb"
        for rep in range(self.settings.repeat):
            shutil.copyfile(snapshot, self.warehouse)
            self.dbt("dbt_models_incremental", *MODELS_ONLY, rep=rep)
            shutil.copyfile(snapshot, self.warehouse)
            self.dbt("dbt_build_incremental", *WITH_DATA_TESTS, rep=rep)

    def replays(self, session: Any) -> None:
        """Issue 16: `python -m ingest replay` of the new day from this scale's warehouse, at
        each speed of the ladder while the backlog stays bounded (then only `max`). Each run
        starts from a fresh copy of the warehouse without the session (the command's own
        preparation); its figures come from --stats-json."""
        if self.settings.dbt_select:
            # a narrowed build left the seeds and models the minute models read unbuilt
            run_command(
                [
                    DBT,
                    "build",
                    "--target",
                    "ci",
                    "--select",
                    "@stg_yfinance__bars_1m",
                    *MODELS_ONLY,
                ],
                env=self.env(),
                folder=self.folder / "logs",
                name="replay_prerequisites-0",
            )
        folder = self.folder / "replay"
        climbing = True
        for speed in self.settings.replay_speeds:
            if speed != "max" and not climbing:
                continue
            stats = folder / f"stats-{speed}.json"
            command = [sys.executable, "-m", "ingest", "replay", "--plain"]
            command += ["--from-warehouse", str(self.warehouse), "--session", str(session)]
            command += ["--replay-warehouse", str(folder / "warehouse.duckdb")]
            command += ["--speed", speed, "--stats-json", str(stats)]
            if self.settings.replay_batch_minutes is not None:
                command += ["--batch-minutes", str(self.settings.replay_batch_minutes)]
            if self.settings.replay_minutes:
                command += ["--minutes", str(self.settings.replay_minutes)]
            load_before = os.getloadavg()[0]
            sample = run_command(
                command, env=self.env(), folder=self.folder / "logs", name=f"replay_{speed}-0"
            )
            sample.detail |= json.loads(stats.read_text()) | {"load_average_1m_before": load_before}
            self.add(f"replay_{speed}", sample)
            if speed != "max" and not sample.detail["kept_up"]:
                climbing = False
        if not self.settings.keep:
            shutil.rmtree(folder, ignore_errors=True)

    def report_queries(self) -> None:
        files = sorted(str(p) for p in REPORT_SOURCES.glob("*.sql"))
        sample = self.task(
            "report_queries",
            "report-queries",
            {"warehouse": str(self.warehouse), "files": files, "runs": self.settings.query_runs},
        )
        self.result["report_queries"] = sample.detail["queries"]
        self.record(self.result)

    def reports_build(self) -> None:
        """reports/scripts/build.sh on this warehouse, in a copy of reports/ so that nobody
        else's build or dev server shares its output folders."""
        copy = self.folder / "reports"
        shutil.rmtree(copy, ignore_errors=True)
        ignore = shutil.ignore_patterns(
            "node_modules", "build", ".evidence", ".svelte-kit", "build.log"
        )
        shutil.copytree(REPO / "reports", copy, ignore=ignore, symlinks=True)
        # A full copy: the build writes caches under node_modules, and the files are patched
        # in place (scripts/patch-universal-sql.cjs), so sharing them would not be private.
        node_modules = (REPO / "reports" / "node_modules").resolve()
        if not node_modules.is_dir():
            raise ChildFailed(f"no {node_modules}: run `make setup` before the reports build")
        subprocess.run(["cp", "-a", str(node_modules), str(copy / "node_modules")], check=True)
        env = self.env() | {"EVIDENCE_SOURCE__warehouse__filename": str(self.warehouse)}
        sample = run_command(
            ["bash", "scripts/build.sh"],
            env=env,
            folder=self.folder / "logs",
            name="reports_build-0",
            cwd=copy,
        )
        steps = {}
        for line in (copy / "build.log").read_text(errors="replace").splitlines():
            if line.startswith("build.sh: '") and "' took " in line:
                step, took = line[len("build.sh: '") :].split("' took ")
                steps[step] = float(took.rstrip("s"))
        sample.detail["steps"] = steps
        self.add("reports_build", sample)
        shutil.rmtree(copy, ignore_errors=True)

    def explain_slowest_model(self) -> None:
        """EXPLAIN ANALYZE of the model that took longest in the full builds (models only)."""
        per_model: dict[str, list[float]] = {}
        for sample in self.result["measures"]["dbt_models_full"]:
            for uid, seconds in sample["detail"]["execution_seconds"].items():
                if uid.startswith("model."):
                    per_model.setdefault(uid, []).append(seconds)
        manifest = json.loads((self.folder / "compiled" / "manifest.json").read_text())
        sql_models = {
            uid: times
            for uid, times in per_model.items()
            if manifest["nodes"][uid].get("language", "sql") == "sql"
        }
        slowest = max(
            sql_models, key=lambda uid: sorted(sql_models[uid])[len(sql_models[uid]) // 2]
        )
        profile = self.folder / "explain-profile.json"
        sample = self.task(
            "explain",
            "explain",
            {
                "warehouse": str(self.warehouse),
                "sql": manifest["nodes"][slowest]["compiled_code"],
                "profile": str(profile),
            },
        )
        self.result["explain"] = {
            "model": slowest,
            "seconds": sample.seconds,
            "operators": sample.detail["operators"],
        }
        self.record(self.result)

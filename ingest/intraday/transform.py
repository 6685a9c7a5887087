"""dbt in a long-lived process: the minute models rebuilt in micro-batches.

dbt is imported and the project parsed once (dbtRunner with the parsed manifest); each batch
then runs only the tables downstream of the raw minutes (their views stay as the baseline
build made them), rewriting the current session (`minute_lookback_sessions: 1`), so a batch
costs what the session so far costs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ingest.config import REPO_ROOT, ConfigError

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest

# Every model the new minutes touch, and nothing else.
SELECTION = "stg_yfinance__bars_1m+"
BATCH_VARS = {"minute_lookback_sessions": 1}


class TransformError(Exception):
    """A dbt batch failed; the message names the failing models."""


def _failures(result: Any) -> str:
    results = getattr(result.result, "results", None) or []
    failed = [
        f"{r.node.name} ({' '.join(str(r.message).split())[:200]})"
        for r in results
        if str(getattr(r, "status", "")) in ("error", "fail")
    ]
    if failed:
        return "; ".join(failed)
    if result.exception is not None:
        return " ".join(str(result.exception).split())[:300]
    return "dbt reported a failure (see the dbt log)"


def _release_warehouse() -> None:
    """Close dbt-duckdb's database instance, which outlives an invocation: the landing's
    connection (dlt) opens the same file with other settings, which DuckDB refuses while
    that instance is open in this process."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
        DuckDBConnectionManager.close_all_connections()


class MinuteModels:
    """The minute models of the warehouse at `warehouse`, run by one in-process dbt."""

    def __init__(
        self,
        warehouse: Path,
        work_dir: Path,
        *,
        project_dir: Path | None = None,
        batch_args: Sequence[str] = (),
    ) -> None:
        """`project_dir` and `batch_args` (added to every batch's dbt run) serve
        bench/replay_microbatch.py's variant of the project; the replay uses neither."""
        from dbt.cli.main import dbtRunner

        # dbt reads the warehouse from the profile's env_var, as the Makefile's runs do; its
        # target/ and logs/ go beside the replay warehouse, apart from the project's own.
        os.environ["WAREHOUSE_PATH"] = str(warehouse)
        os.environ.setdefault("DBT_PROFILES_DIR", str(REPO_ROOT / "profiles"))
        if project_dir is not None:
            os.environ["DBT_PROJECT_DIR"] = str(project_dir)
        os.environ.setdefault("DBT_PROJECT_DIR", str(REPO_ROOT / "dbt_project"))
        self._batch_args = list(batch_args)
        os.environ["DBT_TARGET_PATH"] = str(work_dir / "dbt_target")
        os.environ["DBT_LOG_PATH"] = str(work_dir / "dbt_logs")
        os.environ.setdefault("DO_NOT_TRACK", "1")
        self._vars = ["--vars", json.dumps(BATCH_VARS)]
        parsed = dbtRunner().invoke(["parse", "--quiet", *self._vars])
        _release_warehouse()
        if not parsed.success:
            raise ConfigError(f"dbt could not parse the project: {_failures(parsed)}")
        self._runner = dbtRunner(manifest=cast("Manifest", parsed.result))  # parse's result

    def run(self, *, full_refresh: bool = False, everything: bool = False) -> float:
        """One batch; returns its wall time in seconds. A failed batch raises. `everything`
        also builds the seeds and models the minute models read (a warehouse never built)."""
        if everything:
            args = ["build", "--quiet", "--select", f"@{SELECTION.rstrip('+')}", *self._vars]
            args += ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
        else:
            args = ["run", "--quiet", "--select", SELECTION, *self._vars]
            if not full_refresh:
                # A view's SQL does not change between batches: the baseline build made them
                # (five reporting views, the three minute marts that are views, staging), and
                # re-creating them cost each batch a statement and dbt's overhead per model
                args += ["--exclude", "config.materialized:view"]
        if not full_refresh:
            args += self._batch_args
        if full_refresh:
            args.append("--full-refresh")
        started = time.monotonic()
        try:
            result = self._runner.invoke(args)
        finally:
            _release_warehouse()
        if not result.success:
            raise TransformError(f"dbt batch failed: {_failures(result)}")
        return time.monotonic() - started

"""Run the real commands (ingest, dbt) against a temporary warehouse, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).with_name("dbt")


def warehouse_env(folder: Path) -> dict[str, str]:
    """Environment for ingest and dbt on a warehouse of its own under `folder`."""
    return os.environ | {
        "WAREHOUSE_PATH": str(folder / "warehouse.duckdb"),
        "INGEST_PIPELINES_DIR": str(folder / "dlt"),
        "WAREHOUSE_TARGET": "ci",
        "DBT_PROFILES_DIR": str(REPO / "profiles"),
        "DBT_PROJECT_DIR": str(REPO / "dbt_project"),
        "DBT_TARGET_PATH": str(folder / "dbt_target"),
        "DBT_LOG_PATH": str(folder / "dbt_logs"),
        "DO_NOT_TRACK": "1",
    }


def run(command: list[str], env: dict[str, str], timeout: int = 600) -> str:
    """Run a command from the repository root; fail the test with its output if it fails."""
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output[-4000:]}"
    return output


def ingest(env: dict[str, str], *args: str) -> str:
    return run([sys.executable, "-m", "ingest", *args], env)


def dbt(env: dict[str, str], *args: str) -> str:
    return run([str(DBT), *args, "--target", "ci"], env)


def query(env: dict[str, str], sql: str) -> list[tuple]:
    with duckdb.connect(env["WAREHOUSE_PATH"], read_only=True) as con:
        return con.execute(sql).fetchall()

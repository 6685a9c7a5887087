"""The Makefile makes WAREHOUSE_PATH absolute, so a relative one names the same file from
every recipe, including those that run from reports/ (`make reports WAREHOUSE_PATH=...`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# A target added on make's command line: prints what a recipe run from reports/ (as the
# reports build and its writer lock are) sees, without running setup or anything else.
PRINT = (
    'print-paths: ; @cd reports && echo "$$WAREHOUSE_PATH" && realpath -m "$$WAREHOUSE_PATH"'
    ' && realpath -m "sources/warehouse/$$EVIDENCE_SOURCE__warehouse__filename"'
)


def seen_from_reports(*args: str, env: dict[str, str] | None = None) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("WAREHOUSE_PATH", "MAKEFLAGS")}
    result = subprocess.run(
        ["make", "-s", "--eval", PRINT, "print-paths", *args],
        cwd=REPO, env={**base, **(env or {})}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["WAREHOUSE_PATH=tmp/w.duckdb"], None, "tmp/w.duckdb"),
        (["WAREHOUSE_PATH=./data/../tmp/w.duckdb"], None, "tmp/w.duckdb"),
        ([], {"WAREHOUSE_PATH": "tmp/env.duckdb"}, "tmp/env.duckdb"),
        ([], None, "data/warehouse.duckdb"),
        (["SAMPLE=1"], None, "data/sample/warehouse.duckdb"),
        (["SAMPLE=1", "SAMPLE_WAREHOUSE_PATH=tmp/s.duckdb"], None, "tmp/s.duckdb"),
        ([f"WAREHOUSE_PATH={REPO}/tmp/abs.duckdb"], None, "tmp/abs.duckdb"),
    ],
)
def test_every_recipe_sees_an_absolute_warehouse_path(args, env, expected) -> None:
    as_exported, resolved, evidence = seen_from_reports(*args, env=env)
    # before: `WAREHOUSE_PATH=tmp/w.duckdb` reached the recipe as is, so the reports build's
    # lock (run from reports/) named reports/tmp/w.duckdb, a file that does not exist
    assert as_exported == f"{REPO}/{expected}"
    assert resolved == f"{REPO}/{expected}"
    assert evidence == f"{REPO}/{expected}"  # the file the Evidence source reads, the same


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "md:market_warehouse"), ({"MOTHERDUCK_DATABASE": "wh_prod"}, "md:wh_prod")],
)
def test_on_motherduck_the_reports_read_the_database_by_name(env, expected) -> None:
    base = {k: v for k, v in os.environ.items() if k not in ("MOTHERDUCK_DATABASE", "MAKEFLAGS")}
    result = subprocess.run(
        ["make", "-s", "--eval", "p: ; @echo $$EVIDENCE_SOURCE__warehouse__filename", "p"],
        cwd=REPO, env={**base, **env, "WAREHOUSE_TARGET": "motherduck"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    # before: a file path derived from WAREHOUSE_PATH, which the daily load does not fill
    assert result.stdout.strip() == expected

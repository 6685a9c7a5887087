"""Issue 19, item 6: every text the warehouse writes is identical whatever the machine's TZ.

A small sample is loaded under TZ=Asia/Tokyo and again under TZ=America/Los_Angeles (the
two sides of the date line): every raw table is the same. Then the Tokyo load is built by
`dbt build` under each zone on two copies: every table and view the build writes (staging,
intermediate, marts, seeds, the tests' stored failures) is the same byte for byte, floats
rounded to 10 significant digits. Only what records the runs themselves differs (load ids,
run ids, wall-clock times, dbt's own timings), and those columns are named below."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.pipeline import DBT, ingest, run, warehouse_env

pytestmark = pytest.mark.e2e

SAMPLE = ["sample", "--as-of", "2025-12-31", "--tickers", "SPY,KO,NVDA", "--daily-years", "1",
          "--minute-sessions", "1"]  # fmt: skip
ZONES = ("Asia/Tokyo", "America/Los_Angeles")

# Columns that record a run, not data: a second run anywhere writes other values (dlt's
# load ids, the audit's run ids and times, dbt's invocation ids and timings).
# The reporting views show the same instants as naive UTC wall times (*_utc).
RUN_COLUMNS = {"_dlt_load_id", "_dlt_id", "run_id", "started_at", "finished_at",
               "first_loaded_at", "invocation_id", "run_started_at", "recorded_at",
               "execution_seconds", "run_started_at_utc", "started_at_utc", "finished_at_utc",
               "first_landed_at_utc"}  # fmt: skip
# dbt's own record of its invocations, as the hook writes it (staged without its timings)
RUN_RELATIONS = {"dbt_audit"}


def zone_env(folder: Path, zone: str) -> dict[str, str]:
    return warehouse_env(folder) | {"TZ": zone}


def canonical(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.timestamp()  # the instant, whatever zone the reader converts to
    return value


def contents(path: Path, schemas: tuple[str, ...] | None = None) -> dict[str, list[tuple]]:
    """Every relation's rows (run columns left out), sorted, with floats rounded."""
    found: dict[str, list[tuple]] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_name not like '\\_dlt%' escape '\\'"
        ).fetchall()
        for schema, table in relations:
            if schema in RUN_RELATIONS or (schemas and schema not in schemas):
                continue
            if schemas is None and schema.startswith("raw_"):
                continue
            columns = [
                c for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? order by ordinal_position", [schema, table],
                ).fetchall() if c not in RUN_COLUMNS and not c.startswith("_dlt")
            ]  # fmt: skip
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {listed} from "{schema}"."{table}"').fetchall()
            found[f"{schema}.{table}"] = sorted(
                (tuple(canonical(v) for v in row) for row in rows), key=repr
            )
    return found


def differences(first: dict[str, list[tuple]], second: dict[str, list[tuple]]) -> list[str]:
    named = sorted(set(first) ^ set(second))
    for relation in sorted(set(first) & set(second)):
        if first[relation] != second[relation]:
            rows = set(first[relation]) ^ set(second[relation])
            named.append(f"{relation}: {len(rows)} rows differ, e.g. {sorted(rows, key=repr)[:2]}")
    return named


def test_loads_and_builds_write_the_same_in_tokyo_and_los_angeles(tmp_path) -> None:
    tokyo, los_angeles = (zone_env(tmp_path / z.split("/")[1], z) for z in ZONES)
    ingest(tokyo, *SAMPLE)
    ingest(los_angeles, *SAMPLE)
    raw = ("raw_yfinance", "raw_brokerage", "raw_ingest")
    tokyo_raw = contents(Path(tokyo["WAREHOUSE_PATH"]), raw)
    assert {"raw_yfinance.bars_1m", "raw_brokerage.transactions"} <= set(tokyo_raw)
    assert differences(tokyo_raw, contents(Path(los_angeles["WAREHOUSE_PATH"]), raw)) == []

    # the same data built in both zones
    shutil.copy(tokyo["WAREHOUSE_PATH"], los_angeles["WAREHOUSE_PATH"])
    for env in (tokyo, los_angeles):
        run([str(DBT), "build", "--target", "ci"], env, timeout=1200)
    built = contents(Path(tokyo["WAREHOUSE_PATH"]))
    assert "marts.fct_transaction_anomalies" in built and "marts.fct_bars_1m" in built
    assert len([r for r in built if r.startswith("marts.")]) >= 20
    assert differences(built, contents(Path(los_angeles["WAREHOUSE_PATH"]))) == []

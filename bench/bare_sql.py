"""The floor for dbt: the SQL dbt compiled, executed bare in one DuckDB session.

From the manifest and run_results of a full-refresh `dbt build`, every node that build ran
is executed again in DAG order, as plainly as DuckDB allows: views as `create or replace
view`, tables and incremental models as `create or replace table ... as <compiled select>`
(compiled under --full-refresh, so with no incremental filter), seeds read with their
declared column types, the Python model called with the same DuckDB connection, and data
tests stored as dbt stores failures (`create or replace table test_failures.<test> as
<compiled test>`, then counted). What dbt adds on top - parsing, the run-results hooks,
contracts, transactions, introspection, threads - is its overhead over this floor.
Unit tests are not executed here: they test fixtures, not the warehouse's data.
"""

from __future__ import annotations

import importlib.util
import json
import time
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb

EXECUTED_TYPES = ("seed", "model", "test")


@dataclass(frozen=True)
class Node:
    unique_id: str
    resource_type: str
    materialized: str
    relation: str
    schema: str
    database: str
    sql: str
    language: str
    path: Path  # the node's source file (seeds, python models)
    column_types: dict[str, str]
    meta: dict[str, Any] = field(default_factory=dict)  # config meta (a Python model's vars)


def _relation(node: dict[str, Any]) -> str:
    if node.get("relation_name"):
        return node["relation_name"]
    return f'"{node["database"]}"."{node["schema"]}"."{node.get("alias") or node["name"]}"'


def plan(manifest_path: Path, run_results_path: Path, project_dir: Path) -> list[Node]:
    """The seeds, models and data tests the build ran, seeds and models in DAG order, then
    the tests."""
    manifest = json.loads(manifest_path.read_text())
    run_results = json.loads(run_results_path.read_text())
    ran = {
        r["unique_id"]
        for r in run_results["results"]
        if r["status"] in ("success", "pass", "warn", "fail")
    }
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if uid in ran and node["resource_type"] in EXECUTED_TYPES
    }
    graph = {
        uid: [d for d in node.get("depends_on", {}).get("nodes", []) if d in nodes]
        for uid, node in nodes.items()
        if node["resource_type"] != "test"
    }
    order = list(TopologicalSorter(graph).static_order())
    order += sorted(uid for uid, node in nodes.items() if node["resource_type"] == "test")
    planned = []
    for uid in order:
        node = nodes[uid]
        config = node["config"]
        planned.append(
            Node(
                unique_id=uid,
                resource_type=node["resource_type"],
                materialized=config.get("materialized", "table"),
                relation=_relation(node),
                schema=node["schema"],
                database=node["database"],
                sql=node.get("compiled_code") or "",
                language=node.get("language", "sql"),
                path=project_dir / node["original_file_path"],
                column_types=config.get("column_types") or {},
                meta=config.get("meta") or {},
            )
        )
    return planned


def lineage(manifest_path: Path, models: list[str]) -> set[str]:
    """The unique ids of `models` (by name) and of every seed and model upstream of them."""
    nodes = json.loads(manifest_path.read_text())["nodes"]
    wanted = [
        uid for uid, n in nodes.items() if n["resource_type"] == "model" and n["name"] in models
    ]
    found: set[str] = set()
    while wanted:
        uid = wanted.pop()
        if uid in found or uid not in nodes:
            continue
        found.add(uid)
        wanted += nodes[uid].get("depends_on", {}).get("nodes", [])
    return found


class _DbtStub:
    """What a dbt Python model's `model(dbt, session)` may use here: the floor rebuilds
    everything, as --full-refresh does, so no model is incremental; `ref` finds the table or
    view the plan already built under that name (the calendar reads the exchanges seed and
    the staged tickers); `config.meta_get` reads the node's config meta, as dbt's does."""

    is_incremental = False
    this = None

    def __init__(self, con: duckdb.DuckDBPyConnection, meta: dict[str, Any]) -> None:
        self._con = con
        self.config = _ConfigStub(meta)

    def ref(self, name: str) -> duckdb.DuckDBPyRelation:
        [(database, schema)] = self._con.execute(
            "select table_catalog, table_schema from information_schema.tables "
            "where table_name = ?",
            [name],
        ).fetchall()
        return self._con.table(f'"{database}"."{schema}"."{name}"')


class _ConfigStub:
    """dbt.config in a Python model: a call that sets nothing here, and meta_get."""

    def __init__(self, meta: dict[str, Any]) -> None:
        self._meta = meta

    def __call__(self, **_: Any) -> None:
        return None

    def meta_get(self, key: str, default: Any = None) -> Any:
        return self._meta.get(key, default)


def _python_model(node: Node, con: duckdb.DuckDBPyConnection) -> None:
    spec = importlib.util.spec_from_file_location(f"bench_model_{node.path.stem}", node.path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame = module.model(_DbtStub(con, node.meta), con)  # noqa: F841 - read by DuckDB's replacement scan
    con.execute(f"create or replace table {node.relation} as select * from frame")


def _seed(node: Node, con: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in node.column_types.items())
    options = f", types = {{{columns}}}" if columns else ""
    con.execute(
        f"create or replace table {node.relation} as "
        f"select * from read_csv('{node.path}', header = true{options})"
    )


def execute(node: Node, con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f'create schema if not exists "{node.database}"."{node.schema}"')
    if node.resource_type == "seed":
        _seed(node, con)
    elif node.resource_type == "test":
        con.execute(f"create or replace table {node.relation} as {node.sql}")
        con.execute(f"select count(*) from {node.relation}").fetchall()
    elif node.language == "python":
        _python_model(node, con)
    elif node.materialized == "view":
        con.execute(f"create or replace view {node.relation} as {node.sql}")
    else:
        con.execute(f"create or replace table {node.relation} as {node.sql}")


def run(
    warehouse: Path, manifest_path: Path, run_results_path: Path, project_dir: Path
) -> dict[str, Any]:
    """Execute the plan; seconds for the models (seeds included) and for the tests, and
    per node."""
    nodes = plan(manifest_path, run_results_path, project_dir)
    per_node: dict[str, float] = {}
    with duckdb.connect(str(warehouse)) as con:
        for node in nodes:
            started = time.perf_counter()
            execute(node, con)
            per_node[node.unique_id] = time.perf_counter() - started
    models = sum(t for uid, t in per_node.items() if not uid.startswith("test."))
    tests = sum(t for uid, t in per_node.items() if uid.startswith("test."))
    return {
        "models_seconds": models,
        "tests_seconds": tests,
        "nodes": len(nodes),
        "tests": sum(1 for uid in per_node if uid.startswith("test.")),
        "per_node": per_node,
    }

"""What runs inside each measured child process: `python -m bench.tasks TASK JSON RESULT`.

Each task times its own work (`seconds`, from after its imports and setup to the end of
the work) and writes a JSON result; the parent measures the process's wall time and peak
memory around it. Tasks open the warehouse themselves, so nothing is shared between
measurements but the files.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.scales import SCALES

log = logging.getLogger("bench.tasks")


def generate(scale: str, frames: str) -> dict[str, Any]:
    from bench.market import generate as write_frames

    started = time.perf_counter()
    rows = write_frames(SCALES[scale], Path(frames))
    return {"seconds": time.perf_counter() - started, "rows": rows}


def load_dlt(
    scale: str, frames: str, warehouse: str, until: str, brokerage_inbox: str | None = None
) -> dict[str, Any]:
    """The sample command's market load (ingest/commands/sample.py) on the scale's universe:
    the market_data source and run_source, into `warehouse`, bars through `until`."""
    import dlt

    from bench.market import PregeneratedMarket
    from ingest.audit import RunReport
    from ingest.config import RAW_YFINANCE, pipelines_dir, resolve_warehouse
    from ingest.runner import run_source
    from ingest.yfinance.source import FetchPlan, market_data

    market = PregeneratedMarket(SCALES[scale], Path(frames))
    target = resolve_warehouse("ci", warehouse)
    end = date.fromisoformat(until)
    plan = FetchPlan(
        end=end,
        daily_backfill_days=(end - market.first_daily_session).days,
        minute_backfill_days=(end - market.first_minute_session).days,
    )
    # The currency pairs the sample broker's accounts need come with the tickers, as in the
    # sample command (without them the FX rates' tests fail the build: a EUR account).
    symbols = [*market.tickers, *market.fx_symbols]
    report = RunReport(pipeline="sample_market", source="sample", items_requested=symbols)
    started = time.perf_counter()
    run_source(
        target,
        report,
        market_data(market, symbols, plan, report),
        pipeline_name="sample_market",
        dataset=RAW_YFINANCE,
    )
    seconds = time.perf_counter() - started
    if report.load_failed or report.items_failed:
        raise RuntimeError(f"load failed: {report.error or report.items_failed}")
    trace = dlt.attach("sample_market", pipelines_dir=str(pipelines_dir())).last_trace
    assert trace is not None  # the run above left its trace
    steps = {
        step.step: (step.finished_at - step.started_at).total_seconds()
        for step in trace.steps
        if step.finished_at is not None
    }
    result: dict[str, Any] = {"seconds": seconds, "rows": report.rows_written, "steps": steps}
    if brokerage_inbox:
        from ingest.commands.sample import load_sample_brokerage

        started = time.perf_counter()
        brokerage = load_sample_brokerage(market, target, Path(brokerage_inbox))
        result["brokerage_seconds"] = time.perf_counter() - started
        if brokerage.load_failed:
            raise RuntimeError(f"brokerage load failed: {brokerage.error}")
    return result


def load_bare(scale: str, frames: str, warehouse: str, until: str) -> dict[str, Any]:
    """The floor for ingest: the same frames through the same normalization into the same
    arrow tables, inserted with plain DuckDB (one transaction, a table per resource)."""
    import duckdb
    import pyarrow as pa

    from bench.market import PregeneratedMarket
    from ingest.warehouse import ensure_file
    from ingest.yfinance import normalize

    market = PregeneratedMarket(SCALES[scale], Path(frames))
    end = date.fromisoformat(until) + timedelta(days=1)
    starts = {"1d": market.first_daily_session, "1m": market.first_minute_session}
    normalizers = {"1d": normalize.bars_1d, "1m": normalize.bars_1m}
    symbols = [*market.tickers, *market.fx_symbols]  # what load_dlt loads
    started = time.perf_counter()
    ensure_file(Path(warehouse))  # the same file format as the dlt load (v1.4.0 storage)
    rows = 0
    with duckdb.connect(warehouse) as con:
        con.execute("begin")
        con.execute("create schema raw_yfinance")
        for interval, table in (("1d", "bars_1d"), ("1m", "bars_1m")):
            # currency pairs have daily bars only, as market_data asks for them
            for i, ticker in enumerate(symbols if interval == "1d" else market.tickers):
                frame = market.history(ticker, start=starts[interval], end=end, interval=interval)
                # the day the frames are split-adjusted as of, as load_dlt records it
                batch = normalizers[interval](
                    ticker, frame, adjusted_as_of=market.request_day
                ).table
                verb = (
                    "create table raw_yfinance.{} as" if i == 0 else "insert into raw_yfinance.{}"
                )
                con.execute(f"{verb.format(table)} select * from batch")
                rows += batch.num_rows
        tickers = pa.Table.from_pylist(  # noqa: F841 - DuckDB scan
            [normalize.ticker_row(t, market.info(t)) for t in symbols],
            schema=normalize.TICKERS_SCHEMA,
        )
        con.execute("create table raw_yfinance.tickers as select * from tickers")
        con.execute("commit")
    return {"seconds": time.perf_counter() - started, "rows": rows + len(symbols)}


def bare_sql(warehouse: str, manifest: str, run_results: str, project_dir: str) -> dict[str, Any]:
    from bench import bare_sql as floor

    started = time.perf_counter()
    result = floor.run(Path(warehouse), Path(manifest), Path(run_results), Path(project_dir))
    result["seconds"] = time.perf_counter() - started
    return result


def pandas_build(warehouse: str, output: str, check: bool = True) -> dict[str, Any]:
    from bench import pandas_reference

    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).unlink(missing_ok=True)
    started = time.perf_counter()
    rows, reference = pandas_reference.build(warehouse, output)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"seconds": seconds, "rows": rows, "daily_reference": reference}
    if check:
        result["agreement"] = pandas_reference.agreement(warehouse, output)
    Path(output).unlink(missing_ok=True)
    return result


def polars_build(warehouse: str, output: str, check: bool = True) -> dict[str, Any]:
    """The minute outputs (fct_bars_1m, fct_intraday_features, fct_bars_5m) in polars' lazy
    API, from the same raw tables; checked against the marts like pandas."""
    from bench import polars_reference

    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).unlink(missing_ok=True)
    started = time.perf_counter()
    rows = polars_reference.build(warehouse, output)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"seconds": seconds, "rows": rows}
    if check:
        result["agreement"] = polars_reference.agreement(warehouse, output)
    Path(output).unlink(missing_ok=True)
    return result


def minute_floor(warehouse: str, output: str) -> dict[str, Any]:
    """The floor for the minute models: scan the raw minutes, sort them once by (ticker, ts)
    and write one table of the features' width (11 columns), in one DuckDB session; the
    time of the statement only, as bare_sql times each model."""
    import duckdb

    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).unlink(missing_ok=True)
    with duckdb.connect(output) as con:
        con.execute("attach ? as warehouse (read_only)", [warehouse])
        started = time.perf_counter()
        con.execute(
            "create table floor as select ticker, ts, open, high, low, close, volume, "
            "volume = 0 as is_filled, close * 1.0 as c9, volume * 1.0 as c10, high - low as c11 "
            "from warehouse.raw_yfinance.bars_1m order by ticker, ts"
        )
        seconds = time.perf_counter() - started
        row = con.execute("select count(*) from floor").fetchone()
        assert row is not None  # an aggregate always returns a row
        (rows,) = row
    Path(output).unlink(missing_ok=True)
    return {"seconds": seconds, "rows": rows}


def report_queries(warehouse: str, files: list[str], runs: int) -> dict[str, Any]:
    """Each report source query: one warm-up, then `runs` timed runs fetching every row as
    arrow (as Evidence's source step does), on a read-only connection."""
    import duckdb

    queries: dict[str, Any] = {}
    started = time.perf_counter()
    with duckdb.connect(warehouse, read_only=True) as con:
        for file in files:
            sql = Path(file).read_text()
            try:
                rows = con.sql(sql).fetch_arrow_table().num_rows
            except duckdb.Error as error:  # e.g. its mart is not built (a dbt selection)
                queries[Path(file).stem] = {"error": " ".join(str(error).split())[:200]}
                continue
            timings = []
            for _ in range(runs):
                t0 = time.perf_counter()
                con.sql(sql).fetch_arrow_table()
                timings.append(time.perf_counter() - t0)
            queries[Path(file).stem] = {"seconds": timings, "rows": rows}
    return {"seconds": time.perf_counter() - started, "queries": queries}


def explain(warehouse: str, sql: str, profile: str) -> dict[str, Any]:
    """EXPLAIN ANALYZE of one compiled select; the JSON plan is kept in `profile`."""
    import duckdb

    with duckdb.connect(warehouse, read_only=True) as con:
        started = time.perf_counter()
        plan = con.execute(f"explain (analyze, format json) {sql}").fetchall()[0][1]
        seconds = time.perf_counter() - started
    Path(profile).write_text(plan)
    return {"seconds": seconds, "operators": top_operators(json.loads(plan))}


def top_operators(profile: dict[str, Any], most: int = 8) -> list[dict[str, Any]]:
    """The operators of a DuckDB JSON profile that took the most time."""
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        name = node.get("operator_name") or node.get("name")
        timing = node.get("operator_timing", node.get("timing"))
        if name and timing is not None and name not in ("RESULT_COLLECTOR", "EXPLAIN_ANALYZE"):
            found.append(
                {
                    "operator": name.strip(),
                    "seconds": timing,
                    "rows": node.get("operator_cardinality", node.get("intermediate_rows")),
                    "detail": _detail(node.get("extra_info") or {}, window=name == "WINDOW"),
                }
            )
        for child in node.get("children", []) + node.get("operator", []):
            walk(child)

    walk(profile)
    return sorted(found, key=lambda o: o["seconds"], reverse=True)[:most]


def _detail(extra: dict[str, Any] | str, *, window: bool) -> str:
    if isinstance(extra, str):
        return " ".join(extra.split())[:160]
    parts = []
    keys = ("Table", "Join Type", "Conditions", "Groups", "Aggregates")
    for key in (*keys, "Projections") if window else keys:
        if key in extra:
            value = extra[key]
            value = ", ".join(value) if isinstance(value, list) else str(value)
            parts.append(f"{key}: {' '.join(value.split())}")
    return "; ".join(parts)[:240]


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "generate": generate,
    "load-dlt": load_dlt,
    "load-bare": load_bare,
    "bare-sql": bare_sql,
    "pandas": pandas_build,
    "polars": polars_build,
    "minute-floor": minute_floor,
    "report-queries": report_queries,
    "explain": explain,
}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    task, arguments, result_path = argv
    result = TASKS[task](**json.loads(arguments))
    Path(result_path).write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Run a dlt source into the warehouse and always leave an audit row."""

from __future__ import annotations

import logging
import os
from typing import Any

import dlt
from dlt.common.schema.utils import get_columns_names_with_prop

from ingest.audit import RunReport, write_run
from ingest.config import Warehouse, pipelines_dir
from ingest.disk_full import DiskFull, NoSpace, describe, find_no_space
from ingest.progress import dlt_progress
from ingest.warehouse import dlt_destination

log = logging.getLogger(__name__)

# Every raw row carries dlt's load id, so any gold row traces back to its load.
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
# Merge stages rows in <dataset>_staging; emptying it after the load keeps the file small.
os.environ.setdefault("LOAD__TRUNCATE_STAGING_DATASET", "true")


def _root_cause(error: BaseException) -> BaseException:
    while error.__cause__ is not None or getattr(error, "exception", None) is not None:
        error = getattr(error, "exception", None) or error.__cause__  # type: ignore[assignment]
    return error


def data_rows(normalize_info: Any) -> int:
    """Rows of the data tables (not dlt's own) in a normalize step's info; 0 without one."""
    counts = getattr(normalize_info, "row_counts", None) or {}
    return sum(n for table, n in counts.items() if not table.startswith("_dlt"))


def last_normalize_info(pipeline: dlt.Pipeline) -> Any:
    """The normalize step's info of the pipeline's last run (None before any run)."""
    trace = pipeline.last_trace
    return trace.last_normalize_info if trace is not None else None


def normalized_rows(pipeline: Any) -> int:
    """Rows of data tables in the packages an interrupted run normalized but did not finish
    loading (every job: loaded or not, the dead run audited none of them). Parquet files
    (arrow sources) are counted from their footers; other formats are counted by line."""
    import pyarrow.parquet as pq

    total = 0
    for load_id in pipeline.list_normalized_load_packages():
        jobs = pipeline.get_load_package_info(load_id).jobs
        for state in ("new_jobs", "started_jobs", "completed_jobs", "failed_jobs"):
            for job in jobs.get(state, []):
                info = job.job_file_info
                if info.table_name.startswith("_dlt") or info.file_format == "reference":
                    continue
                if info.file_format == "parquet":
                    total += pq.ParquetFile(job.file_path).metadata.num_rows
                else:
                    log.info("%s: rows of %s not counted", load_id, job.file_path)
    return total


def run_source(
    warehouse: Warehouse, report: RunReport, source: Any, *, pipeline_name: str, dataset: str
) -> RunReport:
    """Load `source` into `dataset`, fill the report's row counts, then write the audit row.

    A full disk (warehouse or dlt's folder) raises DiskFull with one line after the audit
    row was written or saved for the next run: there is no point in going on."""
    progress = dlt_progress()  # a bad $INGEST_PROGRESS stops the run before any work
    full: NoSpace | None = None
    audit_waiting = True
    try:
        pipeline = dlt.pipeline(
            pipeline_name=pipeline_name,
            destination=dlt_destination(warehouse),
            dataset_name=dataset,
            pipelines_dir=str(pipelines_dir()),
            progress=progress,  # extract, normalize, load: ingest/progress.py
        )
        if pipeline.has_pending_data:
            # An earlier run died after extracting (crash, SIGKILL, lost connection): its
            # packages are finished first. dlt's run() then returns without new data, so
            # the new extract below is a second call. The dead run never wrote its audit
            # row, so this run's counts its rows: the audit rows add up to what was written.
            log.warning("%s: finishing the load packages of an interrupted run", pipeline_name)
            report.rows_written += normalized_rows(pipeline)
            pipeline.run()
            report.rows_written += data_rows(last_normalize_info(pipeline))
            # the package's rows are counted once above (from its files): the second copies
            # a resume made are deleted, not subtracted
            remove_copies_of_keys(pipeline)
        pipeline.run(source)
        report.rows_written += data_rows(last_normalize_info(pipeline))
    except Exception as error:
        cause = _root_cause(error)
        report.load_failed = True
        full = find_no_space(error)
        report.error = f"{type(cause).__name__}: {' '.join(str(cause).split())[:300]}"
        if full is None:
            log.error("%s: load failed: %s", pipeline_name, report.error)
    finally:
        try:
            write_run(warehouse, report)
        except Exception as error:
            if find_no_space(error) is None:
                raise
            full = full or find_no_space(error)
            audit_waiting = has_pending_data("ingest_audit")
    if full is not None:
        folders = {"dlt's working folder": pipelines_dir()}
        if warehouse.path is not None:
            folders["warehouse"] = warehouse.path.parent
        waiting = pipelines_dir() / pipeline_name if has_pending_data(pipeline_name) else None
        raise DiskFull(
            describe(full, folders=folders, pending=waiting, audit_waiting=audit_waiting)
        )
    log.info(report.summary())
    return report


def remove_copies_of_keys(pipeline: dlt.Pipeline) -> int:
    """After finishing an interrupted run's packages: delete the extra copies of a primary key
    in the pipeline's merge tables, keeping one row per key; returns the rows deleted.

    dlt empties a package's staging tables once, when the package starts. A copy job that had
    committed into staging when the run died, but was not yet marked done, is copied again
    when the package resumes, and a merge declared `deduplicated` (no ROW_NUMBER() over the
    staged rows: ingest/yfinance/source.py) inserts both copies. They are the same rows of one
    load, so any one of them is the row. Only after a resume: a key scan of each merge table."""
    deleted = 0
    with pipeline.sql_client() as client:
        for table in pipeline.default_schema.data_tables():
            key = get_columns_names_with_prop(table, "primary_key")
            if table.get("write_disposition") != "merge" or not key:
                continue
            table_name = str(table["name"])
            name = client.make_qualified_table_name(table_name)
            columns = ", ".join(client.escape_column_name(column) for column in key)
            # DuckDB answers a delete with its row count
            [(removed,)] = client.execute_sql(
                f"delete from {name} where rowid in (select rowid from ("
                f"select rowid, row_number() over (partition by {columns}) as copy from {name} "
                f"where ({columns}) in (select {columns} from {name} group by all "
                "having count(*) > 1)) where copy > 1)"
            ) or [(0,)]
            if removed:
                log.warning(
                    "%s: %d rows of %s were a second copy of the interrupted load's (its copy "
                    "into the table ran again on resume): deleted, one row per key kept",
                    pipeline.pipeline_name, removed, table_name,
                )  # fmt: skip
                deleted += removed
    return deleted


def has_pending_data(pipeline_name: str) -> bool:
    """Whether the pipeline's working folder holds a load package the next run will load."""
    try:
        pipeline = dlt.attach(pipeline_name=pipeline_name, pipelines_dir=str(pipelines_dir()))
    except Exception:  # no working folder, or one too damaged to read: nothing waits there
        return False
    return bool(pipeline.has_pending_data)

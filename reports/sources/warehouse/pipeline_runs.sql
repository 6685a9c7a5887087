-- Ingest runs of the last 180 days.
select
    run_id,
    pipeline,
    source,
    status,
    timezone('UTC', started_at) as started_at_utc,
    timezone('UTC', finished_at) as finished_at_utc,
    duration_seconds,
    run_date,
    latest_data_date,
    tickers_requested,
    tickers_loaded,
    tickers_failed_count,
    unparsed_cells_count,
    rows_received,
    rows_written,
    duplicates_removed,
    error
from marts.fct_pipeline_runs
where run_date >= (select max(run_date) from marts.fct_pipeline_runs) - interval 180 day

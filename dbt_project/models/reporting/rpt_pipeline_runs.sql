-- Ingest runs of the last 180 days (counted back from the latest run), times as UTC
-- timestamps: the runs table of the pipeline-health page.
with runs as (
    select * from {{ ref('fct_pipeline_runs') }}
),

latest_run as (
    select max(run_date) as run_date from runs
),

final as (
    select
        runs.run_id,
        runs.pipeline,
        runs.source,
        runs.status,
        timezone('UTC', runs.started_at) as started_at_utc,
        timezone('UTC', runs.finished_at) as finished_at_utc,
        runs.duration_seconds,
        runs.run_date,
        runs.latest_data_date,
        runs.items_requested,
        runs.items_loaded,
        runs.items_failed_count,
        runs.unparsed_cells_count,
        runs.rows_received,
        runs.rows_written,
        runs.duplicates_removed,
        runs.error
    from runs
    inner join latest_run
        on runs.run_date >= latest_run.run_date - interval 180 day
)

select * from final

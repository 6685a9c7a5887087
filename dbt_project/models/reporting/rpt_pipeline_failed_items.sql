-- One row per item (a ticker, broker file or API endpoint) that failed in an ingest run of the
-- last 180 days, with the reason the run recorded (fct_pipeline_runs.items_failed is a JSON
-- list) and what the run's items are (item_kind), so a page can count them in its words.
with runs as (
    select * from {{ ref('fct_pipeline_runs') }}
),

latest_run as (
    select max(run_date) as run_date from runs
),

failures as (
    select
        runs.run_id,
        runs.pipeline,
        runs.started_at,
        runs.run_date,
        runs.item_kind,
        unnest(from_json(runs.items_failed, '[{"item": "VARCHAR", "reason": "VARCHAR"}]')) as failure
    from runs
    inner join latest_run
        on runs.run_date >= latest_run.run_date - interval 180 day
),

final as (
    select
        run_id,
        pipeline,
        timezone('UTC', started_at) as started_at_utc,
        run_date,
        item_kind,
        struct_extract(failure, 'item') as item,
        struct_extract(failure, 'reason') as reason
    from failures
)

select * from final

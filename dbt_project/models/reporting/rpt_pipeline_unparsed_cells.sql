-- Cells the ingest runs could not read, per run, file and column (the broker loads).
with cells as (
    select * from {{ ref('fct_pipeline_unparsed_cells') }}
),

final as (
    select
        run_id,
        pipeline,
        timezone('UTC', started_at) as started_at_utc,
        run_date,
        is_latest_run_of_pipeline,
        item,
        column_name,
        unparsed_cells
    from cells
)

select * from final

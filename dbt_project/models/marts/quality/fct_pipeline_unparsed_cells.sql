-- The cells each ingest run could not read, one row per run, file (or ticker) and column:
-- what the pipeline-health page lists for the broker loads.
with runs as (
    select * from {{ ref('stg_ingest__runs') }}
),

latest_runs as (
    select
        run_id,
        pipeline,
        started_at,
        unparsed_cells,
        row_number() over (
            partition by pipeline order by started_at desc, run_id desc
        ) = 1 as is_latest_run_of_pipeline
    from runs
),

cells as (
    select
        run_id,
        pipeline,
        started_at,
        is_latest_run_of_pipeline,
        unnest(from_json(
            unparsed_cells, '[{"item": "VARCHAR", "column": "VARCHAR", "cells": "BIGINT"}]'
        )) as cell
    from latest_runs
    where unparsed_cells is not null
),

final as (
    select
        run_id,
        pipeline,
        started_at,
        cast(timezone('{{ var("market_timezone") }}', started_at) as date) as run_date,
        is_latest_run_of_pipeline,
        struct_extract(cell, 'item') as item,
        struct_extract(cell, 'column') as column_name,
        struct_extract(cell, 'cells') as unparsed_cells
    from cells
    where struct_extract(cell, 'cells') > 0
)

select * from final

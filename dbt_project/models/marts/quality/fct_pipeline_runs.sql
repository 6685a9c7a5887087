-- One row per ingest run with what an operator asks first: did it work, how long, how much,
-- which session's data did it bring, which items (tickers, files, endpoints) failed, which cells did not parse.
with runs as (
    select * from {{ ref('stg_ingest__runs') }}
),

final as (
    select
        run_id,
        pipeline,
        source,
        status,
        started_at,
        finished_at,
        duration_seconds,
        cast(timezone('{{ var("market_timezone") }}', started_at) as date) as run_date,
        cast(timezone('{{ var("market_timezone") }}', max_ts) as date) as latest_data_date,
        item_kind,
        items_requested,
        items_loaded,
        cast(json_array_length(items_failed) as bigint) as items_failed_count,
        items_failed,
        -- Runs audited before the column existed have no list: none counted.
        coalesce(unparsed_cells, cast('[]' as json)) as unparsed_cells,
        cast(coalesce(
            list_sum(cast(json_extract(unparsed_cells, '$[*].cells') as bigint[])), 0
        ) as bigint) as unparsed_cells_count,
        rows_received,
        rows_written,
        duplicates_removed,
        error
    from runs
)

select * from final

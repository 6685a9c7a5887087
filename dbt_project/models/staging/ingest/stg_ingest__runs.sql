with source as (
    select * from {{ source('ingest', 'runs') }}
),

typed as (
    select
        run_id,
        pipeline,
        source,
        started_at,
        finished_at,
        date_diff('millisecond', started_at, finished_at) / 1000.0 as duration_seconds,
        status,
        tickers_requested,
        tickers_loaded,
        cast(tickers_failed as json) as tickers_failed,
        cast(unparsed_cells as json) as unparsed_cells,
        rows_received,
        rows_written,
        duplicates_removed,
        min_ts,
        max_ts,
        error
    from source
)

select * from typed

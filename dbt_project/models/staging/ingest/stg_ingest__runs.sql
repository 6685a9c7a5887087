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
        -- Rows audited before item_kind existed have none (the on-run-start hook
        -- create_missing_source_tables added the column to older warehouses).
        coalesce(item_kind, 'items') as item_kind,
        -- The audit columns keep their first names (tickers_*: old warehouses have them),
        -- though a run's items are tickers, broker files or API endpoints.
        tickers_requested as items_requested,
        tickers_loaded as items_loaded,
        -- [{"ticker", "reason"}] as the loader writes it -> [{"item", "reason"}]
        cast(to_json(list_transform(
            from_json(tickers_failed, '[{"ticker": "VARCHAR", "reason": "VARCHAR"}]'),
            lambda failure: { 'item': failure['ticker'], 'reason': failure['reason'] }
        )) as json) as items_failed,
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

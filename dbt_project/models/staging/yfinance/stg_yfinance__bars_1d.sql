with source as (
    select * from {{ source('yfinance', 'bars_1d') }}
),

renamed as (
    select
        ticker,
        trade_date,
        open,
        high,
        low,
        close,
        adj_close,
        volume,
        coalesce(dividends, 0) as dividend_per_share,
        -- Yahoo writes 0 for "no split"; 1 is the neutral ratio for arithmetic.
        case when coalesce(stock_splits, 0) = 0 then 1.0 else stock_splits end as split_ratio,
        -- Rows loaded before the column existed were adjusted as of the day they were loaded.
        coalesce(
            adjusted_as_of, cast(to_timestamp(cast(_dlt_load_id as double)) as date)
        ) as adjusted_as_of,
        to_timestamp(cast(_dlt_load_id as double)) as loaded_at,
        _dlt_load_id as load_id
    from source
)

select * from renamed

with source as (
    select * from {{ source('yfinance', 'bars_1m') }}
),

renamed as (
    select
        ticker,
        ts as bar_at,
        open,
        high,
        low,
        close,
        volume,
        -- Rows loaded before the column existed were adjusted as of the day they were loaded.
        coalesce(
            adjusted_as_of, cast(to_timestamp(cast(_dlt_load_id as double)) as date)
        ) as adjusted_as_of,
        to_timestamp(cast(_dlt_load_id as double)) as loaded_at,
        _dlt_load_id as load_id
    from source
)

select * from renamed

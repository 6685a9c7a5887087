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
        to_timestamp(cast(_dlt_load_id as double)) as loaded_at,
        _dlt_load_id as load_id
    from source
)

select * from renamed

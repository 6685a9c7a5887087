with source as (
    select * from {{ source('yfinance', 'tickers') }}
),

renamed as (
    select
        ticker,
        name as security_name,
        exchange as yahoo_exchange_code,
        exchange_timezone,
        currency,
        quote_type,
        sector,
        industry,
        to_timestamp(cast(_dlt_load_id as double)) as loaded_at
    from source
)

select * from renamed

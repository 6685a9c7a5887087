-- The ticker dimension as published: the columns of int_tickers_enriched, where its logic lives.
with enriched_tickers as (
    select * from {{ ref('int_tickers_enriched') }}
),

final as (
    select
        ticker,
        security_name,
        quote_type,
        sector,
        industry,
        price_currency,
        currency,
        price_to_major_unit,
        yahoo_exchange_code,
        exchange_mic,
        exchange_name,
        calendar_exchange,
        exchange_timezone,
        is_benchmark
    from enriched_tickers
)

select * from final

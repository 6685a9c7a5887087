-- The universe, one row per ticker: the ticker list, the page titles and the sector ETFs.
with tickers as (
    select * from {{ ref('dim_tickers') }}
),

final as (
    select
        ticker,
        security_name,
        quote_type,
        sector,
        industry,
        currency,
        price_currency,
        exchange_name,
        is_benchmark
    from tickers
)

select * from final

-- The universe: one row per ticker.
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
from marts.dim_tickers

-- One row per ticker with metadata. Bars of a ticker missing here are quarantined as
-- unknown_ticker (int_bars_1m_validated), so the gap is visible rather than silent.
with tickers as (
    select * from {{ ref('stg_yfinance__tickers') }}
),

exchanges as (
    select * from {{ ref('exchanges') }}
),

final as (
    select
        tickers.ticker,
        tickers.security_name,
        tickers.quote_type,
        tickers.sector,
        tickers.industry,
        tickers.currency,
        tickers.yahoo_exchange_code,
        exchanges.exchange_mic,
        exchanges.exchange_name,
        coalesce(exchanges.calendar_exchange, 'XNYS') as calendar_exchange,
        coalesce(tickers.exchange_timezone, exchanges.exchange_timezone) as exchange_timezone,
        tickers.ticker = 'SPY' as is_benchmark
    from tickers
    left join exchanges
        on tickers.yahoo_exchange_code = exchanges.yahoo_exchange_code
)

select * from final

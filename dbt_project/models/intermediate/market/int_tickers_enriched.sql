-- One row per ticker with metadata, its venue and the calendar its sessions follow: the
-- conformed ticker dimension, built here so intermediate models read it without reading a mart
-- (dim_tickers publishes it). Bars of a ticker missing here are quarantined as unknown_ticker
-- (int_bars_1m_validated), so the gap is visible rather than silent.
with tickers as (
    select * from {{ ref('stg_yfinance__tickers') }}
    -- securities only: the currency pairs (`EURUSD=X`, quoteType CURRENCY) are FX rates
    -- (int_fx_rates_validated), nothing a portfolio can hold or a ticker page can show
    where not {{ is_currency_pair('ticker') }}
),

exchanges as (
    select * from {{ ref('exchanges') }}
),

currency_units as (
    select * from {{ ref('currency_units') }}
),

final as (
    select
        tickers.ticker,
        tickers.security_name,
        tickers.quote_type,
        tickers.sector,
        tickers.industry,
        -- Yahoo quotes London in pence, Johannesburg in cents, Tel Aviv in agorot: the unit
        -- as given, the ISO currency it is a fraction of, and the factor between them.
        tickers.currency as price_currency,
        coalesce(currency_units.iso_currency, tickers.currency) as currency,
        coalesce(currency_units.price_to_major_unit, 1.0) as price_to_major_unit,
        tickers.yahoo_exchange_code,
        exchanges.exchange_mic,
        exchanges.exchange_name,
        -- An exchange missing from the seed falls back to NYSE's calendar only for a US
        -- listing (New York time); anywhere else it stays null (a warn test lists it) rather
        -- than being checked against the wrong holidays.
        case
            when exchanges.calendar_exchange is not null then exchanges.calendar_exchange
            when tickers.exchange_timezone = '{{ var("market_timezone") }}' then '{{ var("market_exchange") }}'
        end as calendar_exchange,
        coalesce(tickers.exchange_timezone, exchanges.exchange_timezone) as exchange_timezone,
        tickers.ticker = '{{ var("benchmark_ticker") }}' as is_benchmark
    from tickers
    left join exchanges
        on tickers.yahoo_exchange_code = exchanges.yahoo_exchange_code
    left join currency_units
        on tickers.currency = currency_units.quote_currency
)

select * from final

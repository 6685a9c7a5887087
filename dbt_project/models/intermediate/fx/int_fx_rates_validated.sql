-- Every staged currency-pair bar with the currencies it converts and the reason it cannot be
-- used (null = usable). Yahoo's symbol says the pair: `EURUSD=X` is the price of one EUR in
-- USD (from EUR to USD); the dollar's own pairs also go by the quote currency alone
-- (`JPY=X` = USDJPY: from USD to JPY). Yahoo's `currency` for the pair is the quote currency,
-- which must be the symbol's `to` currency. Only the close is used (the rate of the London
-- day's end), so only the close is checked: FX bars' open, high and low are indicative.
--
-- This is where the pairs leave the bars: the same loader brings them into the same raw table
-- (and staging view), int_bars_1d_validated and int_tickers_enriched leave them out (macro
-- is_currency_pair), so no equity model (checks, quarantine, features, movers, dim_tickers)
-- sees them. Yahoo stamps a pair's daily bar 00:00 Europe/London: trade_date is the London day.
with bars as (
    select * from {{ ref('stg_yfinance__bars_1d') }}
    where {{ is_currency_pair('ticker') }}
),

pairs as (
    select * from {{ ref('stg_yfinance__tickers') }}
    where {{ is_currency_pair('ticker') }}
),

parsed as (
    select
        bars.ticker as pair_symbol,
        bars.trade_date as fx_date,
        bars.open,
        bars.high,
        bars.low,
        bars.close,
        bars.loaded_at,
        bars.load_id,
        pairs.currency as quote_currency,
        regexp_extract(bars.ticker, '^([A-Z]{3})?([A-Z]{3})=X$', 1) as symbol_from,
        regexp_extract(bars.ticker, '^([A-Z]{3})?([A-Z]{3})=X$', 2) as symbol_to
    from bars
    left join pairs
        on bars.ticker = pairs.ticker
),

final as (
    select
        pair_symbol,
        fx_date,
        case when symbol_to != '' then coalesce(nullif(symbol_from, ''), 'USD') end as from_currency,
        nullif(symbol_to, '') as to_currency,
        close as rate,
        open,
        high,
        low,
        quote_currency,
        loaded_at,
        load_id,
        case
            when symbol_to = '' then 'unknown_pair_symbol'
            when coalesce(quote_currency != symbol_to, false) then 'quote_currency_mismatch'
            when close is null then 'missing_rate'
            when close <= 0 or isinf(close) or isnan(close) then 'non_positive_rate'
        end as reject_reason
    from parsed
)

select * from final

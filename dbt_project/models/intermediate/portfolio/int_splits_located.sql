-- The market's splits, each located at the open of its ex-date session: a share held before
-- that instant becomes split_ratio shares from it on (prices are as traded, so the price of
-- the ex-date is already divided). The one source of splits for the portfolio models; a
-- broker's own split rows are only checked against it (fct_transaction_anomalies).
with prices as (
    select * from {{ ref('int_bars_1d_adjusted') }}
),

tickers as (
    select * from {{ ref('int_tickers_enriched') }}
),

sessions as (
    select * from {{ ref('int_trading_sessions_typed') }}
),

final as (
    select
        prices.ticker,
        prices.trade_date as ex_date,
        -- A ticker with no calendar (or an ex-date its calendar does not hold): the start of
        -- the ex-date where it trades, so the split still applies from that day on.
        coalesce(
            sessions.open_at,
            timezone(coalesce(tickers.exchange_timezone, 'UTC'), cast(prices.trade_date as timestamp))
        ) as split_at,
        prices.split_ratio
    from prices
    left join tickers
        on prices.ticker = tickers.ticker
    left join sessions
        on
            tickers.calendar_exchange = sessions.exchange
            and prices.trade_date = sessions.session_date
    where prices.split_ratio != 1
)

select * from final

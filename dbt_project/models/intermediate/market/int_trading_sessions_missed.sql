-- Sessions of a ticker's exchange with no daily bar at all (not even a quarantined one),
-- between the ticker's first and last bar: one row per ticker and missed session, with the
-- length of the gap it belongs to. Only for tickers whose exchange is known (exchanges seed)
-- and whose calendar int_trading_sessions_generated holds: a ticker on an exchange without a
-- calendar is not checked rather than checked against the wrong one.
with validated_bars as (
    select * from {{ ref('int_bars_1d_validated') }}
),

tickers as (
    select * from {{ ref('int_tickers_enriched') }}
),

sessions as (
    select * from {{ ref('int_trading_sessions_generated') }}
),

ticker_spans as (
    select
        validated_bars.ticker,
        tickers.calendar_exchange,
        min(validated_bars.trade_date) as first_trade_date,
        max(validated_bars.trade_date) as last_trade_date
    from validated_bars
    inner join tickers
        on validated_bars.ticker = tickers.ticker
    where tickers.exchange_mic is not null
    group by validated_bars.ticker, tickers.calendar_exchange
),

expected_sessions as (
    select
        ticker_spans.ticker,
        ticker_spans.calendar_exchange,
        sessions.session_date
    from ticker_spans
    inner join sessions
        on
            ticker_spans.calendar_exchange = sessions.exchange
            and sessions.session_date between ticker_spans.first_trade_date and ticker_spans.last_trade_date
),

bar_dates as (
    select distinct
        ticker,
        trade_date
    from validated_bars
),

missed as (
    select
        expected_sessions.ticker,
        expected_sessions.calendar_exchange,
        expected_sessions.session_date,
        -- consecutive missed sessions share a group: session order minus missed order
        row_number() over (
            partition by expected_sessions.ticker order by expected_sessions.session_date
        ) as missed_number
    from expected_sessions
    left join bar_dates
        on expected_sessions.ticker = bar_dates.ticker and expected_sessions.session_date = bar_dates.trade_date
    where bar_dates.ticker is null
),

numbered_sessions as (
    select
        exchange,
        session_date,
        row_number() over (partition by exchange order by session_date) as session_number
    from sessions
),

final as (
    select
        missed.ticker,
        missed.session_date as trade_date,
        missed.calendar_exchange,
        count(*) over (
            partition by missed.ticker, numbered_sessions.session_number - missed.missed_number
        ) as missed_sessions_in_gap
    from missed
    inner join numbered_sessions
        on
            missed.calendar_exchange = numbered_sessions.exchange
            and missed.session_date = numbered_sessions.session_date
)

select * from final

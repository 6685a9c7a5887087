-- Every staged minute bar, located in its exchange session and given the reason it cannot
-- be used (null = clean). Nothing is dropped: marts take `reject_reason is null`.
-- Incremental: a run recomputes whole New York days from the lookback cutoff on.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['ticker', 'bar_date'],
    )
}}

with bars as (
    select * from {{ ref('stg_yfinance__bars_1m') }}
    {% if is_incremental() %}
        where bar_at >= timezone('America/New_York', cast({{ incremental_session_cutoff('bar_date') }} as timestamp))
    {% endif %}
),

tickers as (
    select * from {{ ref('dim_tickers') }}
),

sessions as (
    select * from {{ ref('dim_trading_sessions') }}
),

versioned as (
    select
        *,
        row_number() over (
            partition by ticker, bar_at
            order by loaded_at desc, load_id desc
        ) as version_rank
    from bars
),

located as (
    select
        versioned.*,
        tickers.ticker is not null as is_known_ticker,
        tickers.exchange_timezone,
        sessions.session_date,
        sessions.open_at as session_open_at,
        sessions.close_at as session_close_at
    from versioned
    left join tickers
        on versioned.ticker = tickers.ticker
    left join sessions
        on
            sessions.exchange = coalesce(tickers.calendar_exchange, 'XNYS')
            and sessions.session_date = cast(
                timezone(coalesce(tickers.exchange_timezone, 'America/New_York'), versioned.bar_at) as date
            )
),

validated as (
    select
        ticker,
        bar_at,
        cast(timezone(coalesce(exchange_timezone, 'America/New_York'), bar_at) as date) as bar_date,
        session_date,
        session_open_at,
        session_close_at,
        open,
        high,
        low,
        close,
        volume,
        loaded_at,
        load_id,
        case
            when version_rank > 1 then 'duplicate_superseded'
            when not is_known_ticker then 'unknown_ticker'
            when
                open is null or high is null or low is null or close is null
                then 'missing_price'
            when least(open, high, low, close) <= 0 then 'non_positive_price'
            when high < low then 'high_below_low'
            when
                open not between low and high or close not between low and high
                then 'open_or_close_outside_range'
            when volume < 0 then 'negative_volume'
            when bar_at > now() then 'in_the_future'
            when
                session_date is null or bar_at < session_open_at or bar_at >= session_close_at
                then 'outside_session'
            when date_trunc('minute', bar_at) != bar_at then 'not_on_minute_boundary'
        end as reject_reason
    from located
)

select * from validated

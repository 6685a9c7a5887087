-- Every staged minute bar as traded, located in its exchange session and given the reason it
-- cannot be used (null = clean). Nothing is dropped: marts take `reject_reason is null`.
-- Yahoo split-adjusts minute bars as of the day of the request like daily ones; the splits
-- between the bar's local day and its `adjusted_as_of` turn it back into the traded price
-- (as int_bars_1d_validated does; the splits come from the daily bars). A ticker whose
-- exchange has no calendar in dim_tickers finds no session: its bars are outside_session,
-- not checked against New York's hours.
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

splits as (
    select * from {{ ref('int_splits_recorded') }}
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

dated as (
    select
        versioned.*,
        tickers.ticker is not null as is_known_ticker,
        tickers.calendar_exchange,
        cast(
            timezone(coalesce(tickers.exchange_timezone, 'America/New_York'), versioned.bar_at) as date
        ) as bar_date
    from versioned
    left join tickers
        on versioned.ticker = tickers.ticker
),

-- One split factor per (ticker, day, request day): a few thousand keys, not a range join
-- for every minute.
bar_days as (
    select distinct
        ticker,
        bar_date,
        adjusted_as_of
    from dated
),

split_factors as (
    select
        bar_days.ticker,
        bar_days.bar_date,
        bar_days.adjusted_as_of,
        product(splits.split_ratio) as split_factor_since_trade
    from bar_days
    inner join splits
        on
            bar_days.ticker = splits.ticker
            and bar_days.bar_date < splits.ex_date
            and bar_days.adjusted_as_of >= splits.ex_date
    group by bar_days.ticker, bar_days.bar_date, bar_days.adjusted_as_of
),

located as (
    select
        dated.* exclude (open, high, low, close, volume),
        {{ as_traded_bar('dated', 'factors.split_factor_since_trade') }},
        sessions.session_date,
        sessions.open_at as session_open_at,
        sessions.close_at as session_close_at
    from dated
    left join split_factors as factors
        on
            dated.ticker = factors.ticker
            and dated.bar_date = factors.bar_date
            and dated.adjusted_as_of = factors.adjusted_as_of
    left join sessions
        on
            dated.calendar_exchange = sessions.exchange
            and dated.bar_date = sessions.session_date
),

validated as (
    select
        ticker,
        bar_at,
        bar_date,
        session_date,
        session_open_at,
        session_close_at,
        open,
        high,
        low,
        close,
        volume,
        adjusted_as_of,
        split_factor_since_trade,
        loaded_at,
        load_id,
        case
            when version_rank > 1 then 'duplicate_superseded'
            when not is_known_ticker then 'unknown_ticker'
            {{ ohlc_reject_reason('open', 'high', 'low', 'close', 'volume') }}
            when bar_at > now() then 'in_the_future'
            when
                session_date is null or bar_at < session_open_at or bar_at >= session_close_at
                then 'outside_session'
            when date_trunc('minute', bar_at) != bar_at then 'not_on_minute_boundary'
        end as reject_reason
    from located
)

select * from validated

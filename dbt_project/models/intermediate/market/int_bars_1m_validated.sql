-- Every staged minute bar as traded, located in its exchange session and given the reason it
-- cannot be used (null = clean). Nothing is dropped: int_bars_1m_aligned takes
-- `reject_reason is null`, fct_quarantined_bars the rest.
-- Yahoo split-adjusts minute bars as of the day of the request like daily ones; the splits
-- between the bar's local day and its `adjusted_as_of` turn it back into the traded price
-- (as int_bars_1d_validated does; the splits come from the daily bars). A ticker whose
-- exchange has no calendar (int_tickers_enriched) finds no session: its bars are outside_session,
-- not checked against New York's hours.
-- Incremental: a run deletes and rewrites every row from minute_cutoff_at() on (a range,
-- whatever the new rows hold), reading the staged rows from the same instant.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ minute_range_delete('bar_at') }}",
        on_schema_change='fail',
    )
}}

with bars as (
    select
        *,
        epoch_us(bar_at) as bar_us
    from {{ ref('stg_yfinance__bars_1m') }}
    {% if is_incremental() %}
        where bar_at >= {{ minute_cutoff_at() }}
    {% endif %}
),

tickers as (
    select * from {{ ref('int_tickers_enriched') }}
),

sessions as (
    select * from {{ ref('int_trading_sessions_expanded') }}
),

splits as (
    select * from {{ ref('int_splits_recorded') }}
),

-- Keys loaded more than once (usually none), found by a hash aggregate; only their rows are
-- ranked, instead of a window over every minute.
repeated_keys as (
    select
        ticker,
        bar_us
    from bars
    group by ticker, bar_us
    having count(*) > 1
),

ranked_repeats as (
    select
        bars.ticker,
        bars.bar_us,
        bars.load_id,
        row_number() over (
            partition by bars.ticker, bars.bar_us
            order by bars.loaded_at desc, bars.load_id desc
        ) as version_rank
    from bars
    semi join repeated_keys
        on bars.ticker = repeated_keys.ticker and bars.bar_us = repeated_keys.bar_us
),

superseded as (
    select
        ticker,
        bar_us,
        load_id
    from ranked_repeats
    where version_rank > 1
),

-- The session by an equality join on (exchange, UTC day), then the range check: a bar has at
-- most one session, since the sessions of one exchange do not overlap.
located as (
    select
        bars.*,
        superseded.load_id is not null as is_superseded,
        tickers.ticker is not null as is_known_ticker,
        tickers.exchange_timezone,
        sessions.session_date,
        sessions.open_at as session_open_at,
        sessions.close_at as session_close_at
    from bars
    left join superseded
        on
            bars.ticker = superseded.ticker
            and bars.bar_us = superseded.bar_us
            and bars.load_id = superseded.load_id
    left join tickers
        on bars.ticker = tickers.ticker
    left join sessions
        on
            tickers.calendar_exchange = sessions.exchange
            and {{ utc_day('bars.bar_at') }} = sessions.utc_day
            and bars.bar_us >= sessions.open_us
            and bars.bar_us < sessions.close_us
),

-- The local day, for the split factor: the session's; a time-zone call only for bars
-- outside every session.
dated as (
    select
        *,
        coalesce(
            session_date,
            cast(timezone(coalesce(exchange_timezone, '{{ var("market_timezone") }}'), bar_at) as date)
        ) as bar_date
    from located
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

as_traded as (
    select
        dated.* exclude (open, high, low, close, volume),
        {{ as_traded_bar('dated', 'factors.split_factor_since_trade') }}
    from dated
    left join split_factors as factors
        on
            dated.ticker = factors.ticker
            and dated.bar_date = factors.bar_date
            and dated.adjusted_as_of = factors.adjusted_as_of
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
            when is_superseded then 'duplicate_superseded'
            when not is_known_ticker then 'unknown_ticker'
            {{ ohlc_reject_reason('open', 'high', 'low', 'close', 'volume') }}
            when bar_at > now() then 'in_the_future'
            when session_date is null then 'outside_session'
            when not {{ is_on_minute_boundary('bar_at') }} then 'not_on_minute_boundary'
        end as reject_reason
    from as_traded
)

select * from validated

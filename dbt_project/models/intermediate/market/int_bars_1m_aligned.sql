-- Clean minute bars on a full minute grid: for each ticker and session it traded, every
-- minute from its first trade to the close. A minute with no trade is forward-filled from
-- the previous minute of the same session (is_filled, volume 0). Minutes before the first
-- trade of a session stay missing: nothing is carried over the overnight gap or a holiday.
-- depends_on: {{ ref('dim_trading_sessions') }}
with clean_bars as (
    select * from ({{ session_incremental(ref('int_bars_1m_validated')) }})
    where reject_reason is null
),

traded_sessions as (
    select
        ticker,
        session_date,
        any_value(session_open_at) as session_open_at,
        any_value(session_close_at) as session_close_at,
        min(bar_at) as first_trade_at
    from clean_bars
    group by ticker, session_date
),

minute_grid as (
    select
        ticker,
        session_date,
        session_open_at,
        session_close_at,
        unnest(
            generate_series(first_trade_at, session_close_at - interval 1 minute, interval 1 minute)
        ) as bar_at
    from traded_sessions
),

joined as (
    select
        minute_grid.ticker,
        minute_grid.session_date,
        minute_grid.session_open_at,
        minute_grid.session_close_at,
        minute_grid.bar_at,
        clean_bars.open,
        clean_bars.high,
        clean_bars.low,
        clean_bars.close,
        clean_bars.volume,
        clean_bars.close is null as is_filled,
        last_value(clean_bars.close ignore nulls) over (
            by_session rows between unbounded preceding and current row
        ) as last_close,
        -- the previous minute's close, filled or not: the last trade before this minute
        -- (one sort with last_close; fct_intraday_features would otherwise sort again for lag)
        last_value(clean_bars.close ignore nulls) over (
            by_session rows between unbounded preceding and 1 preceding
        ) as previous_close
    from minute_grid
    left join clean_bars
        on minute_grid.ticker = clean_bars.ticker and minute_grid.bar_at = clean_bars.bar_at
    window by_session as (
        partition by minute_grid.ticker, minute_grid.session_date
        order by minute_grid.bar_at
    )
),

final as (
    select
        ticker,
        session_date,
        session_open_at,
        session_close_at,
        bar_at,
        coalesce(open, last_close) as open,
        coalesce(high, last_close) as high,
        coalesce(low, last_close) as low,
        coalesce(close, last_close) as close,
        coalesce(volume, 0) as volume,
        is_filled,
        previous_close
    from joined
)

select * from final

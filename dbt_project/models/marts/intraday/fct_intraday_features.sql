-- Per ticker and minute: running VWAP and volume since the open, the minute's return,
-- 30-minute volatility and the distance from VWAP. Every window is partitioned by
-- (ticker, session_date), so each one resets at the session open.
-- depends_on: {{ ref('dim_trading_sessions') }}
with aligned_bars as (
    {{ session_incremental(ref('int_bars_1m_aligned')) }}
),

returns as (
    -- previous_close is the aligned model's: a lag() here would sort 20 M rows once more
    select
        *,
        (high + low + close) / 3 as typical_price,
        close / previous_close - 1 as return_1m,
        ln(close / previous_close) as log_return_1m
    from aligned_bars
),

running as (
    select
        ticker,
        session_date,
        bar_at,
        close,
        volume,
        is_filled,
        return_1m,
        sum(volume) over session_to_date as cumulative_volume,
        sum(typical_price * volume) over session_to_date as cumulative_dollar_volume,
        count(log_return_1m) over last_30_minutes as returns_in_window_30,
        stddev_samp(log_return_1m) over last_30_minutes as stddev_log_return_30
    from returns
    window
        session_to_date as (
            partition by ticker, session_date order by bar_at
            rows between unbounded preceding and current row
        ),
        last_30_minutes as (
            partition by ticker, session_date order by bar_at
            rows between 29 preceding and current row
        )
),

final as (
    select
        ticker,
        session_date,
        bar_at,
        close,
        volume,
        is_filled,
        cumulative_volume,
        cumulative_dollar_volume / nullif(cumulative_volume, 0) as session_vwap,
        return_1m,
        case when returns_in_window_30 = 30 then stddev_log_return_30 end as volatility_30m,
        close / (cumulative_dollar_volume / nullif(cumulative_volume, 0)) - 1 as distance_from_vwap
    from running
)

select * from final

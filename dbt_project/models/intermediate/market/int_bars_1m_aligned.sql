-- The one minute table: clean minute bars on the full minute grid of each session a ticker
-- traded, from its first trade to the close, with the intraday features. A minute with no
-- trade is forward-filled from the previous minute of the same session (is_filled, volume 0).
-- Minutes before the first trade of a session stay missing: nothing is carried over the
-- overnight gap or a holiday. fct_bars_1m and fct_intraday_features are views of it.
-- Every window is partitioned by (ticker, session_date), so each one resets at the open.
-- Incremental: a run deletes the sessions from minute_cutoff_session_date() on and rewrites
-- them, reading their minutes whole from minute_cutoff_at().
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ minute_range_delete('session_date') }}",
        on_schema_change='fail',
    )
}}
-- depends_on: {{ ref('int_trading_sessions_expanded') }}

with clean_bars as (
    select
        *,
        epoch_us(bar_at) as bar_us
    from {{ ref('int_bars_1m_validated') }}
    where reject_reason is null
    {% if is_incremental() %}
        and session_date >= {{ minute_cutoff_session_date() }}
        and bar_at >= {{ minute_cutoff_at() }}
    {% endif %}
),

traded_sessions as (
    select
        ticker,
        session_date,
        any_value(session_open_at) as session_open_at,
        any_value(session_close_at) as session_close_at,
        min(bar_us) as first_trade_us,
        epoch_us(any_value(session_close_at)) as close_us
    from clean_bars
    group by ticker, session_date
),

-- Every minute from the first trade to the close, as integers (converted once, in final).
minute_grid as (
    select
        ticker,
        session_date,
        session_open_at,
        session_close_at,
        unnest(range(first_trade_us, close_us, 60000000)) as bar_us
    from traded_sessions
),

-- One window pass: the fill, the previous minute's close (the last trade before this
-- minute) and the running sums since the session's first trade.
filled as (
    select
        minute_grid.ticker,
        minute_grid.session_date,
        minute_grid.session_open_at,
        minute_grid.session_close_at,
        minute_grid.bar_us,
        clean_bars.open,
        clean_bars.high,
        clean_bars.low,
        clean_bars.close,
        clean_bars.volume,
        clean_bars.close is null as is_filled,
        last_value(clean_bars.close ignore nulls) over session_to_date as last_close,
        last_value(clean_bars.close ignore nulls) over (
            by_session rows between unbounded preceding and 1 preceding
        ) as previous_close,
        sum(coalesce(clean_bars.volume, 0)) over session_to_date as cumulative_volume,
        sum(
            coalesce((clean_bars.high + clean_bars.low + clean_bars.close) / 3 * clean_bars.volume, 0)
        ) over session_to_date as cumulative_dollar_volume
    from minute_grid
    left join clean_bars
        on minute_grid.ticker = clean_bars.ticker and minute_grid.bar_us = clean_bars.bar_us
    window
        by_session as (partition by minute_grid.ticker, minute_grid.session_date order by minute_grid.bar_us),
        session_to_date as (by_session rows between unbounded preceding and current row)
),

returns as (
    select
        *,
        coalesce(close, last_close) as filled_close,
        coalesce(close, last_close) / previous_close - 1 as return_1m,
        ln(coalesce(close, last_close) / previous_close) as log_return_1m
    from filled
),

-- The second window pass: the 30-minute volatility needs the returns of the first.
volatility as (
    select
        *,
        count(log_return_1m) over last_30_minutes as returns_in_window_30,
        stddev_samp(log_return_1m) over last_30_minutes as stddev_log_return_30
    from returns
    window last_30_minutes as (
        partition by ticker, session_date order by bar_us
        rows between 29 preceding and current row
    )
),

final as (
    select
        ticker,
        session_date,
        session_open_at,
        session_close_at,
        {{ instant_from_epoch_us('bar_us') }} as bar_at,
        coalesce(open, last_close) as open,
        coalesce(high, last_close) as high,
        coalesce(low, last_close) as low,
        filled_close as close,
        coalesce(volume, 0) as volume,
        is_filled,
        previous_close,
        cumulative_volume,
        cumulative_dollar_volume,
        cumulative_dollar_volume / nullif(cumulative_volume, 0) as session_vwap,
        return_1m,
        case when returns_in_window_30 = 30 then stddev_log_return_30 end as volatility_30m,
        filled_close / (cumulative_dollar_volume / nullif(cumulative_volume, 0)) - 1 as distance_from_vwap
    from volatility
)

select * from final

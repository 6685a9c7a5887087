{#- OHLCV bars of `minutes` minutes from the aligned minute bars. Windows start at the
    session open (09:30, 09:35, ... for 5) and never span two sessions; the last window of
    an early close is cut at the close (window_end_at). VWAP weights the typical price
    (high + low + close) / 3 by volume; a window with no volume has a null VWAP. -#}
{% macro rollup_minute_bars(minutes) %}
-- depends_on: {{ ref('dim_trading_sessions') }}
with aligned_bars as (
    {{ session_incremental(ref('int_bars_1m_aligned')) }}
),

bucketed as (
    select
        *,
        session_open_at + to_minutes(
            cast(floor(date_diff('minute', session_open_at, bar_at) / {{ minutes }}) * {{ minutes }} as bigint)
        ) as window_start_at
    from aligned_bars
),

final as (
    select
        ticker,
        session_date,
        window_start_at,
        least(window_start_at + interval {{ minutes }} minute, any_value(session_close_at)) as window_end_at,
        arg_min(open, bar_at) as open,
        max(high) as high,
        min(low) as low,
        arg_max(close, bar_at) as close,
        sum(volume) as volume,
        sum((high + low + close) / 3 * volume) / nullif(sum(volume), 0) as vwap,
        cast(count(*) filter (where not is_filled) as integer) as bar_count,
        cast(count(*) as integer) as minute_count
    from bucketed
    group by ticker, session_date, window_start_at
)

select * from final
{% endmacro %}

{#- OHLCV windows of `minutes` minutes from the rows of `bars` (a CTE of the calling model),
    one row per ticker, session and window. Windows start at the session open (09:30, 09:35,
    ... for 5) and never span two sessions; the last window of an early close is cut at the
    close (window_end_at). VWAP weights the typical price (high + low + close) / 3 by volume;
    a window with no volume has a null VWAP.
    `bars` holds ticker, session_date, session_open_at, session_close_at, start_at, open,
    high, low, close, volume, dollar_volume, bar_count and minute_count: the aligned minutes
    (int_bars_5m_rolled_up) or 5-minute windows (fct_bars_15m, fct_bars_60m). A 5-minute
    window lies inside one coarser window because both start at the open and 5 divides 15
    and 60, and its sums, extremes, first open and last close are those of its minutes, so
    both give the same numbers; the windows are fewer rows to read. The window is found by
    integer arithmetic on the instant (minute_window_index) and its start computed once per
    window. -#}
{% macro rollup_minute_bars(minutes, bars) %}
    select
        ticker,
        session_date,
        any_value(session_open_at) as session_open_at,
        any_value(session_close_at) as session_close_at,
        {{ minute_window_start('any_value(session_open_at)', 'window_index', minutes) }} as window_start_at,
        least(
            {{ minute_window_start('any_value(session_open_at)', '(window_index + 1)', minutes) }},
            any_value(session_close_at)
        ) as window_end_at,
        arg_min(open, start_at) as open,
        max(high) as high,
        min(low) as low,
        arg_max(close, start_at) as close,
        sum(volume) as volume,
        sum(dollar_volume) as dollar_volume,
        sum(dollar_volume) / nullif(sum(volume), 0) as vwap,
        cast(sum(bar_count) as integer) as bar_count,
        cast(sum(minute_count) as integer) as minute_count
    from (
        select
            *,
            {{ minute_window_index('start_at', 'session_open_at', minutes) }} as window_index
        from {{ bars }}
    )
    group by ticker, session_date, window_index
{% endmacro %}

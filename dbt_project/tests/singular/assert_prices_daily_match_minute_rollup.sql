-- Warn when a recent daily bar disagrees with the rollup of that session's minute bars
-- (close, high, low beyond 0.5 %; volume beyond 5 %). Providers compute the two apart,
-- so a small gap is normal and a large one means one of the feeds is wrong for that day.
-- A daily build compares the sessions it rewrote (minute_rewrite_filter); a full build all.
{{ config(severity='warn', warn_if='>0') }}
{%- set scope = minute_rewrite_filter('session_date', 'int_bars_1m_aligned') %}

with minute_rollup as (
    select
        ticker,
        session_date as trade_date,
        arg_max(close, bar_at) as close,
        max(high) as high,
        min(low) as low,
        sum(volume) as volume
    from {{ ref('fct_bars_1m') }}
    {%- if scope %}
    where {{ scope }}
    {%- endif %}
    group by ticker, session_date
),

daily as (
    select * from {{ ref('fct_prices_daily') }}
)

select
    daily.ticker,
    daily.trade_date,
    daily.close as daily_close,
    minute_rollup.close as rollup_close,
    daily.high as daily_high,
    minute_rollup.high as rollup_high,
    daily.low as daily_low,
    minute_rollup.low as rollup_low,
    daily.volume as daily_volume,
    minute_rollup.volume as rollup_volume
from daily
inner join minute_rollup
    on daily.ticker = minute_rollup.ticker and daily.trade_date = minute_rollup.trade_date
where
    abs(daily.close / minute_rollup.close - 1) > 0.005
    or abs(daily.high / minute_rollup.high - 1) > 0.005
    or abs(daily.low / minute_rollup.low - 1) > 0.005
    or abs(daily.volume / nullif(minute_rollup.volume, 0) - 1) > 0.05

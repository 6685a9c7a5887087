{#- OHLCV bars of `minutes` minutes. Windows start at the session open (09:30, 09:35, ... for
    5) and never span two sessions; the last window of an early close is cut at the close
    (window_end_at). VWAP weights the typical price (high + low + close) / 3 by volume; a
    window with no volume has a null VWAP.
    Without `finer`, the windows are built from the aligned minutes. With `finer` (a rollup
    model whose window length divides `minutes`, e.g. fct_bars_5m for 15), they are built
    from its windows instead: every finer window lies inside one coarser window because both
    start at the open, and the sums, extremes, first open and last close of the finer windows
    are those of their minutes. Reading 4 M five-minute rows instead of 20 M minutes made
    fct_bars_15m and fct_bars_60m several times faster at scale L (docs/benchmarks.md). -#}
{% macro rollup_minute_bars(minutes, finer=none) %}
-- depends_on: {{ ref('dim_trading_sessions') }}
{% if finer is none -%}
with bars as (
    select
        ticker,
        session_date,
        session_open_at,
        session_close_at,
        bar_at as start_at,
        open,
        high,
        low,
        close,
        volume,
        (high + low + close) / 3 * volume as dollar_volume,
        case when is_filled then 0 else 1 end as bar_count,
        1 as minute_count
    from ({{ session_incremental(ref('int_bars_1m_aligned')) }})
),
{%- else -%}
with finer_bars as (
    {{ session_incremental(ref(finer)) }}
),

tickers as (
    select * from {{ ref('dim_tickers') }}
),

sessions as (
    select * from {{ ref('dim_trading_sessions') }}
),

bars as (
    -- the session of each finer window, found as int_bars_1m_validated found it
    select
        finer_bars.ticker,
        finer_bars.session_date,
        sessions.open_at as session_open_at,
        sessions.close_at as session_close_at,
        finer_bars.window_start_at as start_at,
        finer_bars.open,
        finer_bars.high,
        finer_bars.low,
        finer_bars.close,
        finer_bars.volume,
        finer_bars.dollar_volume,
        finer_bars.bar_count,
        finer_bars.minute_count
    from finer_bars
    left join tickers
        on finer_bars.ticker = tickers.ticker
    left join sessions
        on
            sessions.exchange = tickers.calendar_exchange
            and finer_bars.session_date = sessions.session_date
),
{%- endif %}

bucketed as (
    select
        *,
        session_open_at + to_minutes(
            cast(floor(date_diff('minute', session_open_at, start_at) / {{ minutes }}) * {{ minutes }} as bigint)
        ) as window_start_at
    from bars
),

final as (
    select
        ticker,
        session_date,
        window_start_at,
        least(window_start_at + interval {{ minutes }} minute, any_value(session_close_at)) as window_end_at,
        arg_min(open, start_at) as open,
        max(high) as high,
        min(low) as low,
        arg_max(close, start_at) as close,
        sum(volume) as volume,
        sum(dollar_volume) as dollar_volume,
        sum(dollar_volume) / nullif(sum(volume), 0) as vwap,
        cast(sum(bar_count) as integer) as bar_count,
        cast(sum(minute_count) as integer) as minute_count
    from bucketed
    group by ticker, session_date, window_start_at
)

select * from final
{% endmacro %}

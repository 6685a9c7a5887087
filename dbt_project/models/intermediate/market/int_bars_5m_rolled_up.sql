-- 5-minute windows of the aligned minutes with their session bounds: fct_bars_5m publishes
-- them, fct_bars_15m and fct_bars_60m roll them up (5 divides 15 and 60); see
-- macros/rollup_minute_bars.sql for the window rules.
-- Incremental: a run deletes the sessions from minute_cutoff_session_date() on and rewrites
-- them from their whole minutes.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ minute_range_delete('session_date') }}",
        on_schema_change='fail',
    )
}}
-- depends_on: {{ ref('int_trading_sessions_expanded') }}

with minutes as (
    select * from {{ ref('int_bars_1m_aligned') }}
    {% if is_incremental() %}
        where session_date >= {{ minute_cutoff_session_date() }}
    {% endif %}
),

bars as (
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
    from minutes
),

windows as (
    {{ rollup_minute_bars(5, 'bars') }}
)

select * from windows

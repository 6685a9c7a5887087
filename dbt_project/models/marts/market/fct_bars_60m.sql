-- 60-minute bars, rolled up from the 5-minute windows; see macros/rollup_minute_bars.sql for
-- the window rules.
-- Incremental: a run deletes the sessions from minute_cutoff_session_date() on and rewrites
-- them from their whole 5-minute windows.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ minute_range_delete('session_date') }}",
        on_schema_change='fail',
    )
}}
-- depends_on: {{ ref('int_trading_sessions_expanded') }}

with five_minute_windows as (
    select * from {{ ref('int_bars_5m_rolled_up') }}
    {% if is_incremental() %}
        where session_date >= {{ minute_cutoff_session_date() }}
    {% endif %}
),

bars as (
    select
        * exclude (window_start_at, window_end_at, vwap),
        window_start_at as start_at
    from five_minute_windows
),

windows as (
    {{ rollup_minute_bars(60, 'bars') }}
),

final as (
    select
        ticker,
        session_date,
        window_start_at,
        window_end_at,
        open,
        high,
        low,
        close,
        volume,
        dollar_volume,
        vwap,
        bar_count,
        minute_count
    from windows
)

select * from final

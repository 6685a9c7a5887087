-- 5-minute bars: int_bars_5m_rolled_up without its session bounds (a view; see
-- macros/rollup_minute_bars.sql for the window rules).
{{ config(materialized='view') }}

with windows as (
    select * from {{ ref('int_bars_5m_rolled_up') }}
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

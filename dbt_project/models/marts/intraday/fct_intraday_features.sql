-- Per ticker and minute: running VWAP and volume since the session's first trade, the
-- minute's return, 30-minute volatility and the distance from VWAP. A view of
-- int_bars_1m_aligned, where the features are computed with the fill in one window pass.
{{ config(materialized='view') }}

with aligned_bars as (
    select * from {{ ref('int_bars_1m_aligned') }}
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
        session_vwap,
        return_1m,
        volatility_30m,
        distance_from_vwap
    from aligned_bars
)

select * from final

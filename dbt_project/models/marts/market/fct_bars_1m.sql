-- The aligned minute bars without their session bounds and features. A view: as a table,
-- it was a copy of every aligned minute on each build (docs/benchmarks.md, "What was
-- changed, and why").
{{ config(materialized='view') }}

with aligned_bars as (
    select * from {{ ref('int_bars_1m_aligned') }}
),

final as (
    select
        ticker,
        session_date,
        bar_at,
        open,
        high,
        low,
        close,
        volume,
        is_filled
    from aligned_bars
)

select * from final

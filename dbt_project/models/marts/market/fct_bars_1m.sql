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

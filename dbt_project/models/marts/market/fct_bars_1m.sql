-- depends_on: {{ ref('dim_trading_sessions') }}
with aligned_bars as (
    {{ session_incremental(ref('int_bars_1m_aligned')) }}
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

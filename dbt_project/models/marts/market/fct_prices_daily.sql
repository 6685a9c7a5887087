with adjusted_bars as (
    select * from {{ ref('int_bars_1d_adjusted') }}
),

final as (
    select
        ticker,
        trade_date,
        open,
        high,
        low,
        close,
        adj_close,
        volume,
        dividend_per_share,
        split_ratio,
        adjustment_factor
    from adjusted_bars
)

select * from final

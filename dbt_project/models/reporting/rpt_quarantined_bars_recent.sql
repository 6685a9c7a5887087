-- The latest 200 quarantined bars as received, to look at; minute bars' times in the
-- market's wall time (var market_timezone, New York).
with quarantined as (
    select * from {{ ref('fct_quarantined_bars') }}
),

final as (
    select
        bar_interval,
        ticker,
        trade_date,
        timezone('{{ var("market_timezone") }}', bar_at) as bar_time_ny,
        open,
        high,
        low,
        close,
        volume,
        reject_reason
    from quarantined
    order by trade_date desc, bar_at desc nulls last, ticker asc
    limit 200
)

select * from final

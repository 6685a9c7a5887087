-- Quarantined bars counted per day, interval, ticker and reason (minute bars can be many).
with quarantined as (
    select * from {{ ref('fct_quarantined_bars') }}
),

final as (
    select
        trade_date,
        bar_interval,
        ticker,
        reject_reason,
        count(*) as bars
    from quarantined
    group by all
)

select * from final

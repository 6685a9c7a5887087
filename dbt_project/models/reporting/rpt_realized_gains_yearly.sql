-- Realized gains per account, tax year and term (FIFO). Money as double: the browser only
-- displays it.
with gains as (
    select * from {{ ref('fct_realized_gains_yearly') }}
),

final as (
    select
        account_id,
        tax_year,
        term,
        lots_matched,
        sales,
        cast(proceeds as double) as proceeds,
        cast(fees as double) as fees,
        cast(cost as double) as cost,  -- noqa: RF04
        cast(gains as double) as gains,
        cast(losses as double) as losses,
        cast(realized_pnl as double) as realized_pnl
    from gains
)

select * from final

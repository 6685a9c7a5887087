-- Realized FIFO matches (sell x buy lot), dated by the market's date (var market_timezone,
-- New York) of the purchase and of the sale. Money as double: the browser only displays it.
with lots as (
    select * from {{ ref('fct_lots_realized') }}
),

final as (
    select
        account_id,
        ticker,
        buy_transaction_id,
        sell_transaction_id,
        cast(timezone('{{ var("market_timezone") }}', bought_at) as date) as bought_on,
        cast(timezone('{{ var("market_timezone") }}', sold_at) as date) as sold_on,
        cast(quantity as double) as quantity,
        cast(cost as double) as cost,  -- noqa: RF04
        cast(proceeds as double) as proceeds,
        cast(fees as double) as fees,
        cast(realized_pnl as double) as realized_pnl,
        holding_period_days,
        is_long_term
    from lots
)

select * from final

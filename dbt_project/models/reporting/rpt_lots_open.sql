-- Open tax lots with their holding period and the date each turns long term. Money as
-- double: the browser only displays it.
with lots as (
    select * from {{ ref('fct_lots_open') }}
),

final as (
    select
        account_id,
        ticker,
        buy_transaction_id,
        buy_date,
        as_of_date,
        cast(shares_held as double) as shares_held,
        cast(cost as double) as cost,  -- noqa: RF04
        close,
        cast(market_value as double) as market_value,
        cast(unrealized_pnl as double) as unrealized_pnl,
        holding_period_days,
        long_term_from,
        is_long_term
    from lots
)

select * from final

-- The FIFO matches share out whole trades: the matches of each accepted sell add up to its
-- quantity, its gross value (quantity x price) and its fees exactly (no sold share unmatched,
-- no cent lost to rounding); no buy lot gives more shares than it bought, and a lot that is
-- fully sold gives exactly its cost (quantity x price + fees). Transfers of shares count as
-- buys (in) and sells (out, their whole quantity matched, at cost). Returns the offending trades.
with transactions as (
    select
        *,
        {{ shares_value('quantity', 'price') }} as trade_value
    from {{ ref('fct_transactions') }}
    where action in ('buy', 'sell', 'transfer_in', 'transfer_out')
),

lots as (
    select * from {{ ref('fct_lots_realized') }}
),

sells_matched as (
    select
        sell_transaction_id as transaction_id,
        sum(quantity) as matched_quantity,
        sum(proceeds) as matched_value,
        sum(fees) as matched_fees
    from lots
    group by sell_transaction_id
),

buys_matched as (
    select
        buy_transaction_id as transaction_id,
        sum(purchase_quantity) as matched_quantity,
        sum(cost) as matched_cost
    from lots
    group by buy_transaction_id
),

sell_problems as (
    select
        transactions.transaction_id,
        'sell not matched exactly' as problem
    from transactions
    left join sells_matched
        on transactions.transaction_id = sells_matched.transaction_id
    where
        transactions.action in ('sell', 'transfer_out')
        and (
            sells_matched.matched_quantity is distinct from transactions.quantity
            or (
                transactions.action = 'sell'
                and (
                    sells_matched.matched_value is distinct from transactions.trade_value
                    or sells_matched.matched_fees is distinct from transactions.fees
                )
            )
        )
),

buy_problems as (
    select
        transactions.transaction_id,
        'lot over-sold or fully sold at another cost' as problem
    from transactions
    inner join buys_matched
        on transactions.transaction_id = buys_matched.transaction_id
    where
        transactions.action in ('buy', 'transfer_in')
        and (
            buys_matched.matched_quantity > transactions.quantity
            or (
                buys_matched.matched_quantity = transactions.quantity
                and buys_matched.matched_cost != transactions.trade_value + transactions.fees
            )
        )
)

select * from sell_problems
union all
select * from buy_problems

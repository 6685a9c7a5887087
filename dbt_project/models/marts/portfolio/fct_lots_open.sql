-- The tax lots still held at the latest session of market data: every buy or transfer in,
-- less what FIFO sales and transfers out took from it (fct_lots_realized), with its
-- remaining cost, how long it has been held and the day it turns long term. The lots of an
-- account and ticker add up to its position in fct_positions_daily on that session (shares
-- and cost basis; tested).
with transactions as (
    select * from {{ ref('fct_transactions') }}
    where action in ('buy', 'transfer_in')
),

realized_lots as (
    select * from {{ ref('fct_lots_realized') }}
),

positions as (
    select * from {{ ref('fct_positions_daily') }}
),

as_of as (
    select max(session_date) as as_of_date
    from positions
),

-- A lot as fct_lots_realized opens it: quantity x price (the cost basis a transfer in
-- gives, or the session's close) plus the buy's fees.
lots as (
    select
        transaction_id,
        account_id,
        ticker,
        executed_at as bought_at,
        cast(timezone('{{ var("market_timezone") }}', executed_at) as date) as buy_date,
        cast(quantity as decimal(38, 6)) as quantity,
        coalesce({{ shares_value('quantity', 'price') }}, 0) + cast(fees as decimal(38, 4)) as lot_cost,
        {{ split_factor_after('transactions.ticker', 'transactions.executed_at') }} as split_factor
    from transactions
),

taken as (
    select
        buy_transaction_id,
        sum(purchase_quantity) as quantity_taken,
        sum(cost) as cost_taken
    from realized_lots
    group by buy_transaction_id
),

remaining as (
    select
        lots.*,
        lots.quantity - coalesce(taken.quantity_taken, 0) as quantity_left,
        lots.lot_cost - coalesce(taken.cost_taken, 0) as cost_left,
        cast(lots.buy_date + interval 1 year + interval 1 day as date) as long_term_from
    from lots
    left join taken
        on lots.transaction_id = taken.buy_transaction_id
),

final as (
    select
        remaining.account_id,
        remaining.ticker,
        remaining.transaction_id as buy_transaction_id,
        remaining.bought_at,
        remaining.buy_date,
        as_of.as_of_date,
        cast(remaining.quantity_left as decimal(18, 6)) as quantity,
        cast(round(remaining.quantity_left * remaining.split_factor, 6) as decimal(18, 6)) as shares_held,
        cast(remaining.cost_left as decimal(18, 4)) as cost, -- noqa: RF04
        positions.close,
        cast(
            {{ shares_value('round(remaining.quantity_left * remaining.split_factor, 6)', 'positions.close') }}
            as decimal(18, 4)
        ) as market_value,
        cast(
            {{ shares_value('round(remaining.quantity_left * remaining.split_factor, 6)', 'positions.close') }}
            - remaining.cost_left as decimal(18, 4)
        ) as unrealized_pnl,
        cast(date_diff('day', remaining.buy_date, as_of.as_of_date) as integer) as holding_period_days,
        remaining.long_term_from,
        as_of.as_of_date >= remaining.long_term_from as is_long_term
    from remaining
    cross join as_of
    left join positions
        on
            remaining.account_id = positions.account_id
            and remaining.ticker = positions.ticker
            and as_of.as_of_date = positions.session_date
    where remaining.quantity_left > 0
)

select * from final

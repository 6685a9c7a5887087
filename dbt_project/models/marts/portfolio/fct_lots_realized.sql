-- FIFO matching of sells against buy lots, per account and ticker, as an overlap of intervals.
--
-- Every buy and sell is expressed in the ticker's latest share units (quantity x the product
-- of the market's split ratios after it), so a split changes nothing in this space: a lot
-- simply holds more, cheaper shares after it, its cost unchanged. Laid end to end in FIFO
-- order, the buys of an account and ticker cover the interval [0, total bought) and the
-- sells [0, total sold); buy lot b is [b_start, b_end), sell s is [s_start, s_end). First in,
-- first out is exactly "the k-th share sold is the k-th share bought", so sell s takes from
-- lot b the overlap of their intervals, and each overlap is one row here. Sells larger than
-- the holding were rejected upstream, so every sold share meets a bought one.
--
-- Cost, proceeds, fees and quantities are shared out in proportion to the overlap with
-- allocate_pro_rata, whose pieces add up to the lot's (or the sell's) total to the last
-- decimal; all of it in decimal arithmetic.
with transactions as (
    select * from {{ ref('fct_transactions') }}
    where action in ('buy', 'sell', 'transfer_in', 'transfer_out')
),

-- A transfer of shares in is a lot like a buy (its cost: the cost basis given, or the day's
-- close, as price; no fees); a transfer out takes lots first in, first out like a sell, but
-- realizes nothing: the shares leave at their cost.
trades as (
    select
        transaction_id,
        account_id,
        ticker,
        case when action in ('buy', 'transfer_in') then 'buy' else 'sell' end as action,
        action = 'transfer_out' as is_transfer,
        executed_at,
        cast(timezone('{{ var("market_timezone") }}', executed_at) as date) as trade_date,
        cast(quantity as decimal(38, 6)) as quantity,
        cast(fees as decimal(38, 4)) as fees,
        coalesce({{ shares_value('quantity', 'price') }}, 0) as trade_value,
        cast(quantity as decimal(38, 6))
        * {{ split_factor_after('transactions.ticker', 'transactions.executed_at') }} as latest_units
    from transactions
),

intervals as (
    select
        *,
        coalesce(
            sum(latest_units) over (
                partition by account_id, ticker, action
                order by executed_at, transaction_id
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as units_start
    from trades
),

buy_lots as (
    select
        *,
        units_start + latest_units as units_end,
        trade_value + fees as lot_cost
    from intervals
    where action = 'buy'
),

sells as (
    select
        *,
        units_start + latest_units as units_end
    from intervals
    where action = 'sell'
),

matches as (
    select
        sells.account_id,
        sells.ticker,
        buy_lots.transaction_id as buy_transaction_id,
        sells.transaction_id as sell_transaction_id,
        buy_lots.executed_at as bought_at,
        sells.executed_at as sold_at,
        buy_lots.trade_date as buy_date,
        sells.trade_date as sell_date,
        greatest(buy_lots.units_start, sells.units_start) as overlap_start,
        least(buy_lots.units_end, sells.units_end) as overlap_end,
        buy_lots.units_start as lot_start,
        buy_lots.latest_units as lot_units,
        buy_lots.quantity as lot_quantity,
        buy_lots.lot_cost,
        sells.units_start as sell_start,
        sells.latest_units as sell_units,
        sells.quantity as sell_quantity,
        sells.trade_value as sell_value,
        sells.fees as sell_fees,
        sells.is_transfer
    from sells
    inner join buy_lots
        on
            sells.account_id = buy_lots.account_id
            and sells.ticker = buy_lots.ticker
            and sells.units_end > buy_lots.units_start
            and sells.units_start < buy_lots.units_end
),

allocated as (
    select
        account_id,
        ticker,
        buy_transaction_id,
        sell_transaction_id,
        bought_at,
        sold_at,
        buy_date,
        sell_date,
        is_transfer,
        {{ allocate_pro_rata('sell_quantity', 'overlap_start', 'overlap_end', 'sell_start', 'sell_units', 6) }}
            as quantity,
        {{ allocate_pro_rata('lot_quantity', 'overlap_start', 'overlap_end', 'lot_start', 'lot_units', 6) }}
            as purchase_quantity,
        {{ allocate_pro_rata('lot_cost', 'overlap_start', 'overlap_end', 'lot_start', 'lot_units') }} as cost_sold,
        {{ allocate_pro_rata('sell_value', 'overlap_start', 'overlap_end', 'sell_start', 'sell_units') }} as proceeds,
        {{ allocate_pro_rata('sell_fees', 'overlap_start', 'overlap_end', 'sell_start', 'sell_units') }} as fees
    from matches
),

final as (
    select
        account_id,
        ticker,
        buy_transaction_id,
        sell_transaction_id,
        bought_at,
        sold_at,
        cast(quantity as decimal(18, 6)) as quantity,
        cast(purchase_quantity as decimal(18, 6)) as purchase_quantity,
        -- `cost` is the name issue 7 gives the column; sqlfluff lists it as a keyword.
        cast(cost_sold as decimal(18, 4)) as cost, -- noqa: RF04
        cast(case when is_transfer then cost_sold else proceeds end as decimal(18, 4)) as proceeds,
        cast(case when is_transfer then 0 else fees end as decimal(18, 4)) as fees,
        cast(case when is_transfer then 0 else proceeds - fees - cost_sold end as decimal(18, 4))
            as realized_pnl,
        cast(date_diff('day', buy_date, sell_date) as integer) as holding_period_days,
        sell_date > cast(buy_date + interval 1 year as date) as is_long_term,
        is_transfer
    from allocated
)

select * from final

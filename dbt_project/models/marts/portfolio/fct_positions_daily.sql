-- Holdings per account, ticker and session close, from the session of the first buy (or
-- transfer in, or dividend) through the latest session of market data, days at zero after a
-- full sale included. A transfer in adds shares at its cost basis, a transfer out takes them
-- FIFO at cost (fct_lots_realized).
-- Quantities are summed in latest share units (see fct_lots_realized) and stated in the
-- units of each session by dividing by the split factor still to come, so a split raises the
-- quantity on its ex-date and leaves the cost basis unchanged. The cost basis is what was
-- paid for the shares still held: buy costs (fees included) less the FIFO cost of the lots
-- sold, both to date. Closes are stated in the ticker's major currency (a London close in
-- pence becomes pounds), the currency the broker's trades and the account are in.
with transactions as (
    select * from {{ ref('fct_transactions') }}
),

lots as (
    select * from {{ ref('fct_lots_realized') }}
),

account_cash as (
    select * from {{ ref('int_account_cash_accumulated') }}
),

sessions as (
    select * from {{ ref('dim_trading_sessions') }}
    where exchange = '{{ var("market_exchange") }}'
),

prices as (
    select * from {{ ref('fct_prices_daily') }}
),

tickers as (
    select * from {{ ref('dim_tickers') }}
),

major_unit_closes as (
    select
        prices.ticker,
        prices.trade_date,
        prices.close * tickers.price_to_major_unit as close
    from prices
    left join tickers
        on prices.ticker = tickers.ticker
),

-- From the first session the account bought the ticker or was paid a dividend on it (a
-- dividend booked before any buy still counts in dividend_income_to_date, as in cash).
held_tickers as (
    select
        account_id,
        ticker,
        min(session_date) as first_session_date
    from transactions
    where action in ('buy', 'transfer_in', 'dividend')
    group by account_id, ticker
),

position_sessions as (
    select
        held_tickers.account_id,
        held_tickers.ticker,
        sessions.session_date,
        sessions.close_at
    from held_tickers
    inner join sessions
        on
            held_tickers.first_session_date <= sessions.session_date
            and sessions.session_date <= (select max(prices.trade_date) from prices)
),

daily_trades as (
    select
        account_id,
        ticker,
        session_date,
        sum(
            case when action in ('buy', 'transfer_in') then 1 else -1 end
            * cast(quantity as decimal(38, 6))
            * {{ split_factor_after('transactions.ticker', 'transactions.executed_at') }}
        ) as latest_units_change,
        sum(
            case
                when action in ('buy', 'transfer_in') then {{ shares_value('quantity', 'price') }} + fees
                else 0
            end
        ) as cost_bought
    from transactions
    where action in ('buy', 'sell', 'transfer_in', 'transfer_out')
    group by account_id, ticker, session_date
),

daily_dividends as (
    select
        account_id,
        ticker,
        session_date,
        sum(cash_amount) as dividend_income
    from transactions
    where action = 'dividend'
    group by account_id, ticker, session_date
),

daily_lots as (
    select
        lots.account_id,
        lots.ticker,
        sells.session_date,
        sum(lots.cost) as cost_sold,
        sum(lots.realized_pnl) as realized_pnl
    from lots
    inner join transactions as sells
        on lots.sell_transaction_id = sells.transaction_id
    group by lots.account_id, lots.ticker, sells.session_date
),

accumulated as (
    select
        position_sessions.account_id,
        position_sessions.ticker,
        position_sessions.session_date,
        position_sessions.close_at,
        sum(coalesce(daily_trades.latest_units_change, 0)) over to_date as latest_units,
        sum(coalesce(daily_trades.cost_bought, 0)) over to_date
        - sum(coalesce(daily_lots.cost_sold, 0)) over to_date as cost_basis,
        sum(coalesce(daily_lots.realized_pnl, 0)) over to_date as realized_pnl_to_date,
        sum(coalesce(daily_dividends.dividend_income, 0)) over to_date as dividend_income_to_date,
        major_unit_closes.close as session_close,
        last_value(major_unit_closes.close ignore nulls) over to_date as close
    from position_sessions
    left join daily_trades
        on
            position_sessions.account_id = daily_trades.account_id
            and position_sessions.ticker = daily_trades.ticker
            and position_sessions.session_date = daily_trades.session_date
    left join daily_lots
        on
            position_sessions.account_id = daily_lots.account_id
            and position_sessions.ticker = daily_lots.ticker
            and position_sessions.session_date = daily_lots.session_date
    left join daily_dividends
        on
            position_sessions.account_id = daily_dividends.account_id
            and position_sessions.ticker = daily_dividends.ticker
            and position_sessions.session_date = daily_dividends.session_date
    left join major_unit_closes
        on
            position_sessions.ticker = major_unit_closes.ticker
            and position_sessions.session_date = major_unit_closes.trade_date
    window to_date as (
        partition by position_sessions.account_id, position_sessions.ticker
        order by position_sessions.session_date
    )
),

factored as (
    select
        *,
        {{ split_factor_after('accumulated.ticker', 'accumulated.close_at') }} as split_factor_to_come
    from accumulated
),

valued as (
    select
        *,
        {{ divide_decimal('latest_units', 'split_factor_to_come', 6) }} as quantity
    from factored
),

priced as (
    select
        *,
        -- Nothing held is worth 0 even before the ticker has a price; a holding without one is null.
        case when quantity = 0 then 0 else {{ shares_value('quantity', 'close') }} end as market_value
    from valued
),

final as (
    select
        priced.account_id,
        priced.ticker,
        priced.session_date,
        cast(priced.quantity as decimal(18, 6)) as quantity,
        cast(priced.cost_basis as decimal(18, 4)) as cost_basis,
        cast({{ divide_decimal('priced.cost_basis', 'priced.quantity', 6) }} as decimal(18, 6)) as average_cost,
        priced.close,
        priced.session_close is null as is_close_carried_forward,
        cast(priced.market_value as decimal(18, 4)) as market_value,
        cast(priced.market_value - priced.cost_basis as decimal(18, 4)) as unrealized_pnl,
        cast(priced.realized_pnl_to_date as decimal(18, 4)) as realized_pnl_to_date,
        cast(priced.dividend_income_to_date as decimal(18, 4)) as dividend_income_to_date,
        cast(priced.market_value as double)
        / nullif(
            cast(
                account_cash.cash
                + sum(priced.market_value) over (partition by priced.account_id, priced.session_date)
                as double
            ),
            0
        ) as weight
    from priced
    left join account_cash
        on
            priced.account_id = account_cash.account_id
            and priced.session_date = account_cash.session_date
)

select * from final

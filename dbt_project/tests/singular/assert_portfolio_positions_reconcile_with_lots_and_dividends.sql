-- Realized P&L and dividend income are kept apart and reconcile: on every session,
-- realized_pnl_to_date = the realized P&L of the FIFO matches of the sells counted by then,
-- and dividend_income_to_date = the cash of the ticker's dividends counted by then (never in
-- realized P&L). Returns the position-days where either disagrees.
with positions as (
    select * from {{ ref('fct_positions_daily') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

lots as (
    select * from {{ ref('fct_lots_realized') }}
),

realized_by_session as (
    select
        lots.account_id,
        lots.ticker,
        sells.session_date,
        sum(lots.realized_pnl) as realized_pnl
    from lots
    inner join transactions as sells
        on lots.sell_transaction_id = sells.transaction_id
    group by all
),

dividends_by_session as (
    select
        account_id,
        ticker,
        session_date,
        sum(cash_amount) as dividend_income
    from transactions
    where action = 'dividend'
    group by all
),

expected as (
    select
        positions.account_id,
        positions.ticker,
        positions.session_date,
        positions.realized_pnl_to_date,
        positions.dividend_income_to_date,
        (
            select coalesce(sum(realized_by_session.realized_pnl), 0)
            from realized_by_session
            where
                realized_by_session.account_id = positions.account_id
                and realized_by_session.ticker = positions.ticker
                and realized_by_session.session_date <= positions.session_date
        ) as expected_realized_pnl,
        (
            select coalesce(sum(dividends_by_session.dividend_income), 0)
            from dividends_by_session
            where
                dividends_by_session.account_id = positions.account_id
                and dividends_by_session.ticker = positions.ticker
                and dividends_by_session.session_date <= positions.session_date
        ) as expected_dividend_income
    from positions
)

select *
from expected
where
    realized_pnl_to_date != expected_realized_pnl
    or dividend_income_to_date != expected_dividend_income

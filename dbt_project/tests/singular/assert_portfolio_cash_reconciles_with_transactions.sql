-- For every account and session, cash = the sum of cash_amount of the account's accepted
-- transactions counted by that session's close, and market value = the sum of its positions'
-- market values. Computed here with a plain join rather than the models' window sums.
-- Returns the account-sessions where either disagrees.
with portfolio as (
    select * from {{ ref('fct_portfolio_daily') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

positions as (
    select * from {{ ref('fct_positions_daily') }}
),

cash_to_date as (
    select
        portfolio.account_id,
        portfolio.session_date,
        coalesce(sum(transactions.cash_amount), 0) as expected_cash
    from portfolio
    left join transactions
        on
            portfolio.account_id = transactions.account_id
            and portfolio.session_date >= transactions.session_date
    group by portfolio.account_id, portfolio.session_date
),

market_value as (
    select
        account_id,
        session_date,
        sum(market_value) as expected_market_value
    from positions
    group by account_id, session_date
)

select
    portfolio.account_id,
    portfolio.session_date,
    portfolio.cash,
    cash_to_date.expected_cash,
    portfolio.market_value,
    coalesce(market_value.expected_market_value, 0) as expected_market_value
from portfolio
inner join cash_to_date
    on
        portfolio.account_id = cash_to_date.account_id
        and portfolio.session_date = cash_to_date.session_date
left join market_value
    on
        portfolio.account_id = market_value.account_id
        and portfolio.session_date = market_value.session_date
where
    portfolio.cash != cash_to_date.expected_cash
    or portfolio.market_value != coalesce(market_value.expected_market_value, 0)

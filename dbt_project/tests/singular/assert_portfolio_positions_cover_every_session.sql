-- Positions have one row per session from the session of the account's first buy of the
-- ticker (or first dividend on it, whichever is earlier) through the latest session of
-- market data, zero-quantity days included: no gap, nothing before, nothing after. Returns
-- the account-tickers whose rows disagree.
with positions as (
    select * from {{ ref('fct_positions_daily') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

sessions as (
    select * from {{ ref('dim_trading_sessions') }}
    where exchange = '{{ var("market_exchange") }}'
),

prices as (
    select * from {{ ref('fct_prices_daily') }}
),

expected_spans as (
    select
        transactions.account_id,
        transactions.ticker,
        min(transactions.session_date) as first_session_date,
        (select max(prices.trade_date) from prices) as last_session_date
    from transactions
    where transactions.action in ('buy', 'transfer_in', 'dividend')
    group by transactions.account_id, transactions.ticker
),

expected_counts as (
    select
        expected_spans.account_id,
        expected_spans.ticker,
        expected_spans.first_session_date,
        expected_spans.last_session_date,
        count(sessions.session_date) as expected_sessions
    from expected_spans
    left join sessions
        on sessions.session_date between expected_spans.first_session_date and expected_spans.last_session_date
    group by all
),

actual_counts as (
    select
        account_id,
        ticker,
        min(session_date) as first_session_date,
        max(session_date) as last_session_date,
        count(*) as actual_sessions
    from positions
    group by account_id, ticker
)

select
    coalesce(expected_counts.account_id, actual_counts.account_id) as account_id,
    coalesce(expected_counts.ticker, actual_counts.ticker) as ticker,
    expected_counts.first_session_date as expected_first_session_date,
    actual_counts.first_session_date as actual_first_session_date,
    expected_counts.last_session_date as expected_last_session_date,
    actual_counts.last_session_date as actual_last_session_date,
    expected_counts.expected_sessions,
    actual_counts.actual_sessions
from expected_counts
full outer join actual_counts
    on
        expected_counts.account_id = actual_counts.account_id
        and expected_counts.ticker = actual_counts.ticker
where
    expected_counts.first_session_date is distinct from actual_counts.first_session_date
    or expected_counts.last_session_date is distinct from actual_counts.last_session_date
    or expected_counts.expected_sessions is distinct from actual_counts.actual_sessions

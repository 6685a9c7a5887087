-- Cash per account at every session close, from the account's first accepted transaction
-- through the latest session of market data: the running sum of cash_amount, and the day's
-- external flows (deposits, withdrawals) that the time-weighted return neutralizes.
-- Dividends, fees and trades move cash but are not external flows: they are performance.
with transactions as (
    select * from {{ ref('int_transactions_validated') }}
    where reject_reason is null  -- the accepted rows, as fct_transactions publishes them
),

sessions as (
    select * from {{ ref('int_trading_sessions_typed') }}
    where exchange = '{{ var("market_exchange") }}'
),

prices as (
    select * from {{ ref('int_bars_1d_adjusted') }}
),

account_spans as (
    select
        account_id,
        min(session_date) as first_session_date
    from transactions
    group by account_id
),

account_sessions as (
    select
        account_spans.account_id,
        sessions.session_date
    from account_spans
    inner join sessions
        on
            account_spans.first_session_date <= sessions.session_date
            and sessions.session_date <= (select max(prices.trade_date) from prices)
),

daily_cash as (
    select
        account_id,
        session_date,
        sum(cash_amount) as cash_change,
        coalesce(sum(cash_amount) filter (where action = 'deposit'), 0) as deposits,
        coalesce(sum(cash_amount) filter (where action = 'withdrawal'), 0) as withdrawals
    from transactions
    group by account_id, session_date
),

final as (
    select
        account_sessions.account_id,
        account_sessions.session_date,
        cast(coalesce(daily_cash.cash_change, 0) as decimal(18, 4)) as cash_change,
        cast(
            sum(coalesce(daily_cash.cash_change, 0)) over (
                partition by account_sessions.account_id
                order by account_sessions.session_date
            ) as decimal(18, 4)
        ) as cash,
        cast(coalesce(daily_cash.deposits, 0) as decimal(18, 4)) as deposits,
        cast(coalesce(daily_cash.withdrawals, 0) as decimal(18, 4)) as withdrawals,
        cast(coalesce(daily_cash.deposits, 0) + coalesce(daily_cash.withdrawals, 0) as decimal(18, 4))
            as external_flow
    from account_sessions
    left join daily_cash
        on
            account_sessions.account_id = daily_cash.account_id
            and account_sessions.session_date = daily_cash.session_date
)

select * from final

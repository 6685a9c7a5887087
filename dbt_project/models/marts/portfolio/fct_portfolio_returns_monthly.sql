-- The return grid: per account and calendar month (of the session), the time-weighted return
-- chained from fct_portfolio_daily's daily returns, the benchmark's (the `benchmark_ticker`
-- var, SPY) over the same sessions, and the difference. A year's row of fct_portfolio_returns
-- is the product of its months' (1 + return). Ratios (0.01 = 1 %), double precision.
with portfolio as (
    select * from {{ ref('fct_portfolio_daily') }}
),

final as (
    select
        account_id,
        cast(year(session_date) as integer) as return_year,
        cast(month(session_date) as integer) as return_month,
        min(session_date) as start_date,
        max(session_date) as end_date,
        cast(count(*) as integer) as sessions,
        product(1 + coalesce(daily_return, 0)) - 1 as time_weighted_return,
        product(1 + coalesce(spy_daily_return, 0)) - 1 as benchmark_return,
        (product(1 + coalesce(daily_return, 0)) - 1)
        - (product(1 + coalesce(spy_daily_return, 0)) - 1) as excess_return
    from portfolio
    group by account_id, year(session_date), month(session_date)
)

select * from final

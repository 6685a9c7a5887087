-- The return grid: per account and calendar month (of the session), the time-weighted return
-- chained from fct_portfolio_daily's daily returns, the benchmark's (the `benchmark_ticker`
-- var, SPY) over the same sessions, and the difference. A year's row of fct_portfolio_returns
-- is the product of its months' (1 + return). Ratios (0.01 = 1 %), double precision.
with final as (
    {{ portfolio_monthly_returns(ref('fct_portfolio_daily'), 'account_id') | indent(4) }}
)

select * from final

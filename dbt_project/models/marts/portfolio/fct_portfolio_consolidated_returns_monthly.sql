-- The consolidated portfolio's return grid: per calendar month, the time-weighted return
-- chained from fct_portfolio_consolidated_daily beside SPY's in the reporting currency over
-- the same sessions, and the difference (as fct_portfolio_returns_monthly does per account).
with final as (
    {{ portfolio_monthly_returns(ref('fct_portfolio_consolidated_daily'), 'reporting_currency') | indent(4) }}
)

select * from final

-- The consolidated portfolio's (all accounts, reporting currency) returns per period: since
-- inception and each calendar year (the latest to date), the time-weighted return chained from
-- fct_portfolio_consolidated_daily beside the money-weighted one (XIRR of its external flows
-- and NAVs), by the same rules and the same solver as an account's (fct_portfolio_returns).
{{ portfolio_period_returns(ref('fct_portfolio_consolidated_daily'), 'reporting_currency') }}

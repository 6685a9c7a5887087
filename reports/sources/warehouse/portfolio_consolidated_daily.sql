-- All accounts together in the reporting currency, per session (fct_portfolio_consolidated_daily).
-- Money as double: the browser only displays it.
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls without brokerage data.
select consolidated.*
from (select 1) as one_row
left join (
    select
        reporting_currency,
        session_date,
        account_count,
        cast(nav as double) as nav,
        cast(external_flow as double) as external_flow,
        daily_return,
        cumulative_return,
        spy_cumulative_return,
        excess_cumulative_return,
        nav_drawdown,
        return_drawdown
    from marts.fct_portfolio_consolidated_daily
) as consolidated on true

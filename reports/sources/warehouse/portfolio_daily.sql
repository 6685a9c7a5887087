-- NAV, flows and time-weighted returns per account and session. Money as double: the browser
-- only displays it.
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls without brokerage data.
select portfolio.*
from (select 1) as one_row
left join (
    select
        account_id,
        session_date,
        base_currency,
        cast(cash as double) as cash,
        cast(market_value as double) as market_value,
        cast(nav as double) as nav,
        cast(external_flow as double) as external_flow,
        daily_return,
        cumulative_return,
        spy_daily_return,
        spy_cumulative_return,
        excess_cumulative_return,
        nav_drawdown,
        return_drawdown
    from marts.fct_portfolio_daily
) as portfolio on true

-- Each account at its latest session, in its own currency and in the reporting currency at
-- that session's FX rate (fct_portfolio_daily), with its share of the consolidated NAV.
-- Money as double: the browser only displays it. Never empty (one row of nulls without
-- brokerage data).
select accounts.*
from (select 1) as one_row
left join (
    select
        account_id,
        base_currency,
        reporting_currency,
        session_date,
        cast(nav as double) as nav,
        fx_rate_to_reporting,
        fx_rate_date,
        cast(nav_reporting as double) as nav_reporting,
        cast(nav_reporting as double) / sum(cast(nav_reporting as double)) over () as nav_share,
        cumulative_return,
        cumulative_return_reporting
    from marts.fct_portfolio_daily
    where session_date = (select max(session_date) from marts.fct_portfolio_daily)
) as accounts on true

-- The consolidated portfolio's time-weighted beside money-weighted (IRR) returns, since
-- inception and per calendar year, in the reporting currency. Money as double: the browser
-- only displays it. Never empty (one row of nulls without brokerage data).
select returns.*
from (select 1) as one_row
left join (
    select
        reporting_currency,
        period,
        is_since_inception,
        start_date,
        end_date,
        cast(starting_nav as double) as starting_nav,
        cast(net_external_flow as double) as net_external_flow,
        cast(ending_nav as double) as ending_nav,
        time_weighted_return,
        money_weighted_return
    from marts.fct_portfolio_consolidated_returns
) as returns on true

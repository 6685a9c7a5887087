-- The return grid: each account's time-weighted return per calendar month beside the
-- benchmark's over the same sessions.
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls without brokerage data.
select monthly.*
from (select 1) as one_row
left join (
    select
        account_id,
        return_year,
        return_month,
        start_date,
        end_date,
        sessions,
        time_weighted_return,
        benchmark_return,
        excess_return
    from marts.fct_portfolio_returns_monthly
) as monthly on true

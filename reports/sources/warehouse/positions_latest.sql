-- Open positions of each account at the latest session.
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls when nothing is held.
select positions.*
from (select 1) as one_row
left join (
    select
        account_id,
        ticker,
        session_date,
        cast(quantity as double) as quantity,
        cast(average_cost as double) as average_cost,
        close,
        is_close_carried_forward,
        cast(cost_basis as double) as cost_basis,
        cast(market_value as double) as market_value,
        cast(unrealized_pnl as double) as unrealized_pnl,
        cast(realized_pnl_to_date as double) as realized_pnl_to_date,
        cast(dividend_income_to_date as double) as dividend_income_to_date,
        weight
    from marts.fct_positions_daily
    where session_date = (select max(session_date) from marts.fct_positions_daily)
        and quantity > 0
) as positions on true

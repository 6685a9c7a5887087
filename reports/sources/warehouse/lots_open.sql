-- Open tax lots with their holding period and the date each turns long term. Money as
-- double: the browser only displays it.
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls without an open lot.
select lots.*
from (select 1) as one_row
left join (
    select
        account_id,
        ticker,
        buy_transaction_id,
        buy_date,
        as_of_date,
        cast(shares_held as double) as shares_held,
        cast(cost as double) as cost,
        close,
        cast(market_value as double) as market_value,
        cast(unrealized_pnl as double) as unrealized_pnl,
        holding_period_days,
        long_term_from,
        is_long_term
    from marts.fct_lots_open
) as lots on true

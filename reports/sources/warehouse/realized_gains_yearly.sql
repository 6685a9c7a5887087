-- Realized gains per account, tax year and term (FIFO). Money as double: the browser only
-- displays it.
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls before the first sale.
select gains.*
from (select 1) as one_row
left join (
    select
        account_id,
        tax_year,
        term,
        lots_matched,
        sales,
        cast(proceeds as double) as proceeds,
        cast(fees as double) as fees,
        cast(cost as double) as cost,
        cast(gains as double) as gains,
        cast(losses as double) as losses,
        cast(realized_pnl as double) as realized_pnl
    from marts.fct_realized_gains_yearly
) as gains on true

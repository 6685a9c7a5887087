-- Realized FIFO matches (sell x buy lot), dated by the New York date of the sale.
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls before the first sale.
select lots.*
from (select 1) as one_row
left join (
    select
        account_id,
        ticker,
        buy_transaction_id,
        sell_transaction_id,
        cast(timezone('America/New_York', bought_at) as date) as bought_on,
        cast(timezone('America/New_York', sold_at) as date) as sold_on,
        cast(quantity as double) as quantity,
        cast(cost as double) as cost,
        cast(proceeds as double) as proceeds,
        cast(fees as double) as fees,
        cast(realized_pnl as double) as realized_pnl,
        holding_period_days,
        is_long_term
    from marts.fct_lots_realized
) as lots on true

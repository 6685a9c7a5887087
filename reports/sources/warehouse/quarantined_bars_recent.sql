-- The latest 200 quarantined bars as received, to look at.
-- Never empty (a source without rows breaks the site, see transactions.sql).
select quarantined.*
from (select 1) as one_row
left join (
    select
        bar_interval,
        ticker,
        trade_date,
        timezone('America/New_York', bar_at) as bar_time_ny,
        open,
        high,
        low,
        close,
        volume,
        reject_reason
    from marts.fct_quarantined_bars
    order by trade_date desc, bar_at desc nulls last, ticker
    limit 200
) as quarantined on true

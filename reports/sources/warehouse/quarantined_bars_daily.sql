-- Quarantined bars counted per day, interval, ticker and reason (minute bars can be many).
-- Never empty (a source without rows breaks the site, see transactions.sql).
select quarantined.*
from (select 1) as one_row
left join (
    select
        trade_date,
        bar_interval,
        ticker,
        reject_reason,
        count(*) as bars
    from marts.fct_quarantined_bars
    group by all
) as quarantined on true

-- Brokerage rows kept out of the marts, as reported, with the rule they break.
-- Never empty (a source without rows breaks the site, see transactions.sql).
select rejected.*
from (select 1) as one_row
left join (
    select
        transaction_id,
        account_id,
        timezone('America/New_York', executed_at) as executed_at_ny,
        ticker,
        action,
        cast(quantity as double) as quantity,
        cast(price as double) as price,
        cast(fees as double) as fees,
        cast(reported_amount as double) as reported_amount,
        currency,
        reject_reason
    from marts.fct_quarantined_transactions
) as rejected on true

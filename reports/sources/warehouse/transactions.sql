-- Accepted brokerage transactions; execution time in New York wall time.
--
-- Never empty. For a source query without rows, Evidence (@evidence-dev/universal-sql 3.0.1)
-- writes no parquet file but lists the table anyway, and every page of the built site then
-- fails to load. Sources whose mart can legitimately be empty (no brokerage data, a clean
-- day with nothing quarantined) therefore left-join the mart onto one row: an empty mart
-- gives one row of nulls, which the pages leave out (`where <key> is not null`).
select transactions.*
from (select 1) as one_row
left join (
    select
        transaction_id,
        account_id,
        timezone('America/New_York', executed_at) as executed_at_ny,
        session_date,
        ticker,
        action,
        cast(quantity as double) as quantity,
        cast(price as double) as price,
        cast(fees as double) as fees,
        currency,
        cast(cash_amount as double) as cash_amount
    from marts.fct_transactions
) as transactions on true

-- Accepted transactions flagged by the anomaly checks, one row per transaction and reason.
-- Never empty (a source without rows breaks the site, see transactions.sql).
select anomalies.*
from (select 1) as one_row
left join (
    select
        transaction_id,
        account_id,
        timezone('America/New_York', executed_at) as executed_at_ny,
        ticker,
        action,
        anomaly_reason,
        score,
        related_transaction_id,
        detail
    from marts.fct_transaction_anomalies
) as anomalies on true

-- The alerts of the latest session with minute bars (the session intraday_latest_session
-- holds; after `make replay`, the replayed one), New York wall time like that source.
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls without alerts.
select alerts.*
from (select 1) as one_row
left join (
    select
        ticker,
        session_date,
        timezone('America/New_York', bar_at) as bar_time_ny,
        alert_type,
        measured_value,
        threshold,
        reason
    from marts.fct_intraday_alerts
    where session_date = (select max(session_date) from marts.fct_intraday_features)
) as alerts on true

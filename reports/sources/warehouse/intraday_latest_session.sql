-- Minute prices and the running VWAP of the latest session only (never the minute history:
-- the reports load whole source tables into the browser). Times are New York wall time.
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls without minute bars.
select intraday.*
from (select 1) as one_row
left join (
    select
        ticker,
        session_date,
        timezone('America/New_York', bar_at) as bar_time_ny,
        close,
        volume,
        cast(cumulative_volume as bigint) as cumulative_volume,
        session_vwap,
        distance_from_vwap
    from marts.fct_intraday_features
    where session_date = (select max(session_date) from marts.fct_intraday_features)
) as intraday on true

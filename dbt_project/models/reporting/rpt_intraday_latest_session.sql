-- Minute prices and the running VWAP of the latest session only (never the minute history:
-- the reports load whole source tables into the browser). Times are the market's wall time
-- (var market_timezone, New York).
with intraday as (
    select * from {{ ref('fct_intraday_features') }}
),

latest_session as (
    select max(session_date) as session_date from intraday
),

final as (
    select
        intraday.ticker,
        intraday.session_date,
        timezone('{{ var("market_timezone") }}', intraday.bar_at) as bar_time_ny,
        intraday.close,
        intraday.volume,
        cast(intraday.cumulative_volume as bigint) as cumulative_volume,
        intraday.session_vwap,
        intraday.distance_from_vwap
    from intraday
    inner join latest_session
        on intraday.session_date = latest_session.session_date
)

select * from final

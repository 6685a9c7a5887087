-- The alerts of the latest session with minute bars (the session rpt_intraday_latest_session
-- holds; after `make replay`, the replayed one), in the market's wall time like that view.
with alerts as (
    select * from {{ ref('fct_intraday_alerts') }}
),

intraday as (
    select * from {{ ref('fct_intraday_features') }}
),

latest_session as (
    select max(session_date) as session_date from intraday
),

final as (
    select
        alerts.ticker,
        alerts.session_date,
        timezone('{{ var("market_timezone") }}', alerts.bar_at) as bar_time_ny,
        alerts.alert_type,
        alerts.measured_value,
        alerts.threshold,
        alerts.reason
    from alerts
    inner join latest_session
        on alerts.session_date = latest_session.session_date
)

select * from final

-- Each account at the latest session, in its own currency and in the reporting currency at
-- that session's FX rate (fct_portfolio_daily), with its share of the consolidated NAV.
-- Money as double: the browser only displays it.
with portfolio as (
    select * from {{ ref('fct_portfolio_daily') }}
),

latest_session as (
    select max(session_date) as session_date
    from portfolio
),

latest as (
    select portfolio.*
    from portfolio
    inner join latest_session
        on portfolio.session_date = latest_session.session_date
),

final as (
    select
        account_id,
        base_currency,
        reporting_currency,
        session_date,
        cast(nav as double) as nav,
        fx_rate_to_reporting,
        fx_rate_date,
        cast(nav_reporting as double) as nav_reporting,
        cast(nav_reporting as double) / nullif(sum(cast(nav_reporting as double)) over (), 0)
            as nav_share,
        cumulative_return,
        cumulative_return_reporting
    from latest
)

select * from final

-- The consolidated portfolio's return grid: per calendar month, the time-weighted return
-- chained from fct_portfolio_consolidated_daily beside SPY's in the reporting currency over
-- the same sessions, and the difference (as fct_portfolio_returns_monthly does per account).
with portfolio as (
    select * from {{ ref('fct_portfolio_consolidated_daily') }}
),

final as (
    select
        reporting_currency,
        cast(year(session_date) as integer) as return_year,
        cast(month(session_date) as integer) as return_month,
        min(session_date) as start_date,
        max(session_date) as end_date,
        cast(count(*) as integer) as sessions,
        product(1 + coalesce(daily_return, 0)) - 1 as time_weighted_return,
        product(1 + coalesce(spy_daily_return, 0)) - 1 as benchmark_return,
        (product(1 + coalesce(daily_return, 0)) - 1)
        - (product(1 + coalesce(spy_daily_return, 0)) - 1) as excess_return
    from portfolio
    group by reporting_currency, year(session_date), month(session_date)
)

select * from final

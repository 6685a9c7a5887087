-- All accounts together in the reporting currency, per session
-- (fct_portfolio_consolidated_daily). Money as double: the browser only displays it.
with consolidated as (
    select * from {{ ref('fct_portfolio_consolidated_daily') }}
),

final as (
    select
        reporting_currency,
        session_date,
        account_count,
        cast(nav as double) as nav,
        cast(external_flow as double) as external_flow,
        daily_return,
        cumulative_return,
        spy_cumulative_return,
        excess_cumulative_return,
        nav_drawdown,
        return_drawdown
    from consolidated
)

select * from final

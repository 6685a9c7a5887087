-- NAV, flows and time-weighted returns per account and session. Money as double: the browser
-- only displays it.
with portfolio as (
    select * from {{ ref('fct_portfolio_daily') }}
),

final as (
    select
        account_id,
        session_date,
        base_currency,
        cast(cash as double) as cash,
        cast(market_value as double) as market_value,
        cast(nav as double) as nav,
        cast(external_flow as double) as external_flow,
        daily_return,
        cumulative_return,
        spy_daily_return,
        spy_cumulative_return,
        excess_cumulative_return,
        nav_drawdown,
        return_drawdown
    from portfolio
)

select * from final

-- The consolidated portfolio's time-weighted beside money-weighted (IRR) returns, since
-- inception and per calendar year, in the reporting currency
-- (fct_portfolio_consolidated_returns). Money as double: the browser only displays it.
with returns as (
    select * from {{ ref('fct_portfolio_consolidated_returns') }}
),

final as (
    select
        reporting_currency,
        period,
        is_since_inception,
        start_date,
        end_date,
        cast(starting_nav as double) as starting_nav,
        cast(net_external_flow as double) as net_external_flow,
        cast(ending_nav as double) as ending_nav,
        time_weighted_return,
        money_weighted_return
    from returns
)

select * from final

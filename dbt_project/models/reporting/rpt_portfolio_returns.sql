-- Time-weighted beside money-weighted (IRR) returns per account, since inception and per
-- calendar year. Money as double: the browser only displays it.
with returns as (
    select * from {{ ref('fct_portfolio_returns') }}
),

final as (
    select
        account_id,
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

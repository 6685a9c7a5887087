-- The return grid's months chain to their year: for each account and calendar year, the
-- product of (1 + the month's time-weighted return) - 1 is fct_portfolio_returns' row for
-- that year (to 1e-9: the same daily returns multiplied in another grouping). Fails with the
-- years that differ.
with months as (
    select * from {{ ref('fct_portfolio_returns_monthly') }}
),

years as (
    select * from {{ ref('fct_portfolio_returns') }}
    where not is_since_inception
),

chained as (
    select
        account_id,
        cast(return_year as varchar) as period,
        product(1 + time_weighted_return) - 1 as chained_return
    from months
    group by account_id, return_year
),

final as (
    select
        years.account_id,
        years.period,
        years.time_weighted_return,
        chained.chained_return
    from years
    full outer join chained
        on
            years.account_id = chained.account_id
            and years.period = chained.period
    where
        years.account_id is null
        or chained.account_id is null
        or abs(years.time_weighted_return - chained.chained_return) > 1e-9
)

select * from final

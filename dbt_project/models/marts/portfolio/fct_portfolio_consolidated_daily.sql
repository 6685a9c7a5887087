-- All accounts together in the reporting currency (var reporting_currency), per XNYS session
-- from the first session of any account: NAV and external flows are the sums of the accounts'
-- fct_portfolio_daily.nav_reporting and external_flow_reporting (each at its session's rate),
-- an account counting from its first session. The time-weighted return follows the same rule
-- as an account's, daily_return = nav / (previous nav + external_flow) - 1 (null when nothing
-- was invested at the open), and SPY's return is converted into the reporting currency.
-- Returns are ratios (0.01 = 1 %) in double precision; money stays decimal.
with portfolio as (
    select * from {{ ref('fct_portfolio_daily') }}
),

-- SPY's return in the reporting currency
benchmark_returns as (
    select * from {{ ref('int_benchmark_returns_converted') }}
    where currency = '{{ var("reporting_currency") }}'
),

summed as (
    select
        session_date,
        cast(count(*) as integer) as account_count,
        sum(nav_reporting) as nav,
        sum(external_flow_reporting) as external_flow
    from portfolio
    group by session_date
),

opening as (
    select
        summed.*,
        coalesce(lag(summed.nav) over (order by summed.session_date), 0) + summed.external_flow
            as invested_at_open,
        benchmark_returns.benchmark_daily_return as spy_daily_return
    from summed
    left join benchmark_returns
        on summed.session_date = benchmark_returns.session_date
),

daily_returns as (
    select
        *,
        case
            when invested_at_open > 0 then cast(nav as double) / cast(invested_at_open as double) - 1
        end as daily_return
    from opening
),

chained as (
    select
        *,
        product(1 + coalesce(daily_return, 0)) over to_date - 1 as cumulative_return,
        product(1 + coalesce(spy_daily_return, 0)) over to_date - 1 as spy_cumulative_return,
        max(nav) over to_date as peak_nav
    from daily_returns
    window to_date as (order by session_date rows between unbounded preceding and current row)
),

peaked as (
    select
        *,
        max(1 + cumulative_return) over (
            order by session_date rows between unbounded preceding and current row
        ) as peak_return_index
    from chained
),

final as (
    select
        '{{ var("reporting_currency") }}' as reporting_currency,
        session_date,
        account_count,
        cast(nav as decimal(18, 4)) as nav,
        cast(external_flow as decimal(18, 4)) as external_flow,
        daily_return,
        cumulative_return,
        spy_daily_return,
        spy_cumulative_return,
        daily_return - spy_daily_return as excess_daily_return,
        cumulative_return - spy_cumulative_return as excess_cumulative_return,
        case
            when peak_nav > 0 then cast(nav as double) / cast(peak_nav as double) - 1
        end as nav_drawdown,
        (1 + cumulative_return) / peak_return_index - 1 as return_drawdown
    from peaked
)

select * from final

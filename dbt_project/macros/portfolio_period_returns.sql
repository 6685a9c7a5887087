{#- The body of a period-returns mart (fct_portfolio_returns, fct_portfolio_consolidated_returns):
    per `key` and period (since inception, and each calendar year: the latest one to date), the
    time-weighted return chained from `daily`'s daily_return and the money-weighted return (XIRR)
    of its flows, over the same sessions. `daily` has one row per `key` and session with
    session_date and the NAV, external flow and daily return in the columns `nav`, `flow` and
    `daily_return` name (by default nav, external_flow, daily_return; an account's
    *_reporting columns give its returns in the reporting currency). The rules are in
    fct_portfolio_returns.sql and docs/portfolio.md. -#}
{% macro portfolio_period_returns(daily, key, nav='nav', flow='external_flow', daily_return='daily_return') -%}
with recursive portfolio as (
    select
        {{ key }},
        session_date,
        {{ nav }}{{ ' as nav' if nav != 'nav' }},
        {{ flow }}{{ ' as external_flow' if flow != 'external_flow' }},
        {{ daily_return }}{{ ' as daily_return' if daily_return != 'daily_return' }}
    from {{ daily }}
),

sessions as (
    select
        *,
        lag(nav) over (partition by {{ key }} order by session_date) as previous_nav,
        lag(session_date) over (partition by {{ key }} order by session_date) as previous_session_date
    from portfolio
),

periods as (
    select
        {{ key }},
        'since_inception' as period,
        min(session_date) as start_date,
        max(session_date) as end_date
    from sessions
    group by {{ key }}
    union all
    select
        {{ key }},
        cast(year(session_date) as varchar) as period,
        min(session_date) as start_date,
        max(session_date) as end_date
    from sessions
    group by {{ key }}, year(session_date)
),

period_sessions as (
    select
        periods.{{ key }},
        periods.period,
        periods.start_date,
        periods.end_date,
        sessions.session_date,
        sessions.nav,
        sessions.external_flow,
        sessions.daily_return,
        sessions.previous_nav,
        sessions.previous_session_date
    from periods
    inner join sessions
        on
            periods.{{ key }} = sessions.{{ key }}
            and sessions.session_date between periods.start_date and periods.end_date
),

-- The investor's dated flows of each period: the starting NAV (at the close before the
-- period), each session's external flow, and the ending NAV.
flows as (
    select
        {{ key }},
        period,
        previous_session_date as flow_date,
        -cast(previous_nav as double) as cash_flow
    from period_sessions
    where session_date = start_date and previous_nav is not null and previous_nav != 0
    union all
    select
        {{ key }},
        period,
        session_date as flow_date,
        -cast(external_flow as double) as cash_flow
    from period_sessions
    where external_flow != 0
    union all
    select
        {{ key }},
        period,
        session_date as flow_date,
        cast(nav as double) as cash_flow
    from period_sessions
    where session_date = end_date
),

timed_flows as (
    select
        *,
        date_diff('day', min(flow_date) over (partition by {{ key }}, period), flow_date) / 365.0
            as years
    from flows
),

dated_flows as (
    select
        {{ key }},
        period,
        list({ 'cash_flow': cash_flow, 'years': years }) as flows,
        count(*) filter (where cash_flow < 0) as money_in_flows,
        max(years) > 0 as spans_time
    from timed_flows
    group by {{ key }}, period
),

-- Bisection on x = ln(1 + r): npv(x) = sum(cf * exp(-x * years)), decreasing from positive
-- to negative over the bracket when money goes in first and comes back last.
search as (
    select
        {{ key }},
        period,
        flows,
        cast(-30 as double) as low,
        cast(10 as double) as high,
        0 as step
    from dated_flows
    where money_in_flows > 0 and spans_time
    union all
    select
        searching.{{ key }},
        searching.period,
        searching.flows,
        case
            when searching.npv_at_middle > 0 then (searching.low + searching.high) / 2 else searching.low
        end as low,
        case
            when searching.npv_at_middle > 0 then searching.high else (searching.low + searching.high) / 2
        end as high,
        searching.step + 1 as step
    from (
        select
            search.*,
            list_sum(
                list_transform(
                    search.flows,
                    lambda f: f.cash_flow * exp(-((search.low + search.high) / 2) * f.years)
                )
            ) as npv_at_middle
        from search
        where search.step < 64
    ) as searching
),

bisection as (
    select
        {{ key }},
        period,
        round(exp((low + high) / 2) - 1, 10) + 0 as money_weighted_return  -- + 0: no -0.0
    from search
    -- high never moved: the sum stayed positive up to 2,202,500 % (money came out before it
    -- went in, e.g. a withdrawal first): no IRR in the bracket, null rather than the bound
    where step = 64 and high < 10
),

period_summary as (
    select
        {{ key }},
        period,
        start_date,
        end_date,
        coalesce(max(previous_nav) filter (where session_date = start_date), 0) as starting_nav,
        sum(external_flow) as net_external_flow,
        max(nav) filter (where session_date = end_date) as ending_nav,
        product(1 + coalesce(daily_return, 0)) - 1 as time_weighted_return
    from period_sessions
    group by {{ key }}, period, start_date, end_date
),

final as (
    select
        period_summary.{{ key }},
        period_summary.period,
        period_summary.period = 'since_inception' as is_since_inception,
        period_summary.start_date,
        period_summary.end_date,
        cast(period_summary.starting_nav as decimal(18, 4)) as starting_nav,
        cast(period_summary.net_external_flow as decimal(18, 4)) as net_external_flow,
        cast(period_summary.ending_nav as decimal(18, 4)) as ending_nav,
        cast(period_summary.time_weighted_return as double) as time_weighted_return,
        cast(bisection.money_weighted_return as double) as money_weighted_return
    from period_summary
    left join bisection
        on
            period_summary.{{ key }} = bisection.{{ key }}
            and period_summary.period = bisection.period
)

select * from final
{%- endmacro %}

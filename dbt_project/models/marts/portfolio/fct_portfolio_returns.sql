-- Per account and period (since inception, and each calendar year: the latest one to date),
-- the money-weighted return (IRR, annualized, as XIRR computes it) beside the time-weighted
-- return of fct_portfolio_daily over the same sessions.
--
-- IRR: the rate r at which the dated cash flows of the investor net to zero,
--     sum(cf_i * (1 + r) ^ (-days_i / 365)) = 0,
-- with cf = -external_flow on each session (a deposit, or shares transferred in, is money put
-- in: negative for the investor), the NAV at the period's start as money put in at the start
-- (the close before the period; nothing for the period that starts at inception), and the NAV
-- at the period's end as money taken out; days from the period's first flow. It is found by
-- bisection on x = ln(1 + r) over [-30, 10] (r from -1 + 1e-13 to 22,025 = 2,202,500 %), 64
-- halvings: x to 40 / 2^64 = 2e-18, below double precision. The investor's flows go out
-- first and come back last, so the sum is positive at x = -30 and negative at x = 10 and
-- the root lies between; a total loss (final NAV 0 and nothing back) has none, and the
-- search ends at the lower bound: r = -1 to 1e-13. No IRR (null) for a period without money
-- put in, whose flows all fall on one day (a one-session year), or whose sum is still
-- positive at the upper bound (money taken out before any went in). Rounded to 10 decimals.
-- Returns are ratios (0.10 = 10 %), in double precision.
with recursive portfolio as (
    select * from {{ ref('fct_portfolio_daily') }}
),

sessions as (
    select
        *,
        lag(nav) over (partition by account_id order by session_date) as previous_nav,
        lag(session_date) over (partition by account_id order by session_date) as previous_session_date
    from portfolio
),

periods as (
    select
        account_id,
        'since_inception' as period,
        min(session_date) as start_date,
        max(session_date) as end_date
    from sessions
    group by account_id
    union all
    select
        account_id,
        cast(year(session_date) as varchar) as period,
        min(session_date) as start_date,
        max(session_date) as end_date
    from sessions
    group by account_id, year(session_date)
),

period_sessions as (
    select
        periods.account_id,
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
            periods.account_id = sessions.account_id
            and sessions.session_date between periods.start_date and periods.end_date
),

-- The investor's dated flows of each period: the starting NAV (at the close before the
-- period), each session's external flow, and the ending NAV.
flows as (
    select
        account_id,
        period,
        previous_session_date as flow_date,
        -cast(previous_nav as double) as cash_flow
    from period_sessions
    where session_date = start_date and previous_nav is not null and previous_nav != 0
    union all
    select
        account_id,
        period,
        session_date as flow_date,
        -cast(external_flow as double) as cash_flow
    from period_sessions
    where external_flow != 0
    union all
    select
        account_id,
        period,
        session_date as flow_date,
        cast(nav as double) as cash_flow
    from period_sessions
    where session_date = end_date
),

timed_flows as (
    select
        *,
        date_diff('day', min(flow_date) over (partition by account_id, period), flow_date) / 365.0
            as years
    from flows
),

dated_flows as (
    select
        account_id,
        period,
        list({ 'cash_flow': cash_flow, 'years': years }) as flows,
        count(*) filter (where cash_flow < 0) as money_in_flows,
        max(years) > 0 as spans_time
    from timed_flows
    group by account_id, period
),

-- Bisection on x = ln(1 + r): npv(x) = sum(cf * exp(-x * years)), decreasing from positive
-- to negative over the bracket when money goes in first and comes back last.
search as (
    select
        account_id,
        period,
        flows,
        cast(-30 as double) as low,
        cast(10 as double) as high,
        0 as step
    from dated_flows
    where money_in_flows > 0 and spans_time
    union all
    select
        searching.account_id,
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
        account_id,
        period,
        round(exp((low + high) / 2) - 1, 10) + 0 as money_weighted_return  -- + 0: no -0.0
    from search
    -- high never moved: the sum stayed positive up to 2,202,500 % (money came out before it
    -- went in, e.g. a withdrawal first): no IRR in the bracket, null rather than the bound
    where step = 64 and high < 10
),

period_summary as (
    select
        account_id,
        period,
        start_date,
        end_date,
        coalesce(max(previous_nav) filter (where session_date = start_date), 0) as starting_nav,
        sum(external_flow) as net_external_flow,
        max(nav) filter (where session_date = end_date) as ending_nav,
        product(1 + coalesce(daily_return, 0)) - 1 as time_weighted_return
    from period_sessions
    group by account_id, period, start_date, end_date
),

final as (
    select
        period_summary.account_id,
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
            period_summary.account_id = bisection.account_id
            and period_summary.period = bisection.period
)

select * from final

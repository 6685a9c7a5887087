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
--
-- The same returns of each account in the reporting currency (var reporting_currency) sit
-- beside them: the account's NAV and flows at each session's FX rate (fct_portfolio_daily's
-- *_reporting columns), so they include the currency's move.
with own_currency as (
    {{ portfolio_period_returns(ref('fct_portfolio_daily'), 'account_id') | indent(4) }}
),

reporting_currency as (
    {{ portfolio_period_returns(
        ref('fct_portfolio_daily'), 'account_id',
        nav='nav_reporting', flow='external_flow_reporting', daily_return='daily_return_reporting'
    ) | indent(4) }}
),

final as (
    select
        own_currency.*,
        '{{ var("reporting_currency") }}' as reporting_currency,
        reporting_currency.starting_nav as starting_nav_reporting,
        reporting_currency.net_external_flow as net_external_flow_reporting,
        reporting_currency.ending_nav as ending_nav_reporting,
        reporting_currency.time_weighted_return as time_weighted_return_reporting,
        reporting_currency.money_weighted_return as money_weighted_return_reporting
    from own_currency
    left join reporting_currency
        on
            own_currency.account_id = reporting_currency.account_id
            and own_currency.period = reporting_currency.period
)

select * from final

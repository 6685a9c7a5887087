-- Issue 14's reconciliation: per session, the consolidated NAV (and external flow) equals the
-- sum over accounts of the account's NAV (flow) in its own currency times that currency's rate
-- into the reporting currency, recomputed here from fct_portfolio_daily's own-currency amounts
-- and fct_fx_rates_daily. Each account's converted amount is rounded to 4 decimals in the
-- marts: a tolerance of 0.0001 per account. A session where the two disagree is returned.
with accounts as (
    select * from {{ ref('fct_portfolio_daily') }}
),

rates as (
    select * from {{ ref('fct_fx_rates_daily') }}
),

consolidated as (
    select * from {{ ref('fct_portfolio_consolidated_daily') }}
),

recomputed as (
    select
        accounts.session_date,
        count(*) as account_count,
        sum(cast(accounts.nav as double) * rates.rate_to_reporting) as nav,
        sum(cast(accounts.external_flow as double) * rates.rate_to_reporting) as external_flow
    from accounts
    left join rates
        on
            accounts.base_currency = rates.currency
            and accounts.session_date = rates.session_date
    group by accounts.session_date
)

select
    coalesce(recomputed.session_date, consolidated.session_date) as session_date,
    recomputed.nav as accounts_nav_at_fx,
    consolidated.nav as consolidated_nav,
    recomputed.external_flow as accounts_flow_at_fx,
    consolidated.external_flow as consolidated_flow
from recomputed
full outer join consolidated
    on recomputed.session_date = consolidated.session_date
where
    recomputed.session_date is null
    or consolidated.session_date is null
    or recomputed.nav is null
    or abs(recomputed.nav - cast(consolidated.nav as double)) > 0.0001 * recomputed.account_count
    or abs(recomputed.external_flow - cast(consolidated.external_flow as double)) > 0.0001 * recomputed.account_count

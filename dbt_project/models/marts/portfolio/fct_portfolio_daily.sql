-- Per account and session close: cash, market value, NAV, external flows, and the
-- time-weighted return against SPY over the same sessions.
--
-- Daily TWR with flows neutralized: a deposit or withdrawal is taken to arrive at the start
-- of its session (it can be invested that day), so
--     daily_return = nav / (previous nav + external_flow) - 1,
-- and a day that starts with nothing invested (denominator <= 0) has no return. The
-- cumulative return chains the daily ones; SPY's is chained from its adjusted closes (splits
-- and dividends included, like the account's dividends in cash) over the same sessions.
-- Returns are ratios (0.01 = 1 %) in double precision; money stays decimal.
--
-- Currencies: the amounts are in the account's base currency, and SPY's return is converted
-- into it (its USD return times the session's move of USD against that currency), so the
-- account and its benchmark are compared in one currency. Every account is also stated in
-- the reporting currency (var reporting_currency): NAV and flows at the session's rate of
-- fct_fx_rates_daily, and the time-weighted return of those amounts, which includes the
-- currency's move (fct_portfolio_consolidated_daily sums the accounts in it).
with account_cash as (
    select * from {{ ref('int_account_cash_accumulated') }}
),

positions as (
    select * from {{ ref('fct_positions_daily') }}
),

accounts as (
    select * from {{ ref('stg_brokerage__accounts') }}
),

transfers as (
    select * from {{ ref('fct_transactions') }}
    where action in ('transfer_in', 'transfer_out')
),

fx as (
    select * from {{ ref('int_fx_rates_carried') }}
),

benchmark_returns as (
    select * from {{ ref('int_benchmark_returns_converted') }}
),

daily_market_value as (
    select
        account_id,
        session_date,
        sum(market_value) as market_value
    from positions
    group by account_id, session_date
),

-- Shares transferred in or out are external flows at their market value: the session's
-- close of the position (carried forward over a quarantined bar) times the shares moved.
transfer_flows as (
    select
        transfers.account_id,
        transfers.session_date,
        sum(
            case when transfers.action = 'transfer_in' then 1 else -1 end
            * {{ shares_value('transfers.quantity', 'positions.close') }}
        ) as transfer_flow
    from transfers
    inner join positions
        on
            transfers.account_id = positions.account_id
            and transfers.ticker = positions.ticker
            and transfers.session_date = positions.session_date
    group by transfers.account_id, transfers.session_date
),

valued as (
    select
        account_cash.account_id,
        account_cash.session_date,
        account_cash.cash,
        cast(coalesce(daily_market_value.market_value, 0) as decimal(18, 4)) as market_value,
        account_cash.cash + coalesce(daily_market_value.market_value, 0) as nav,
        account_cash.deposits,
        account_cash.withdrawals,
        account_cash.external_flow + coalesce(transfer_flows.transfer_flow, 0) as external_flow,
        accounts.base_currency
    from account_cash
    left join accounts
        on account_cash.account_id = accounts.account_id
    left join daily_market_value
        on
            account_cash.account_id = daily_market_value.account_id
            and account_cash.session_date = daily_market_value.session_date
    left join transfer_flows
        on
            account_cash.account_id = transfer_flows.account_id
            and account_cash.session_date = transfer_flows.session_date
),

-- SPY's return in the account's currency (int_benchmark_returns_converted), and the
-- account's amounts at the session's rate into the reporting currency.
opening as (
    select
        valued.*,
        benchmark_returns.benchmark_daily_return as spy_daily_return,
        coalesce(lag(valued.nav) over (partition by valued.account_id order by valued.session_date), 0)
        + valued.external_flow as invested_at_open,
        fx.rate_to_reporting as fx_rate_to_reporting,
        fx.rate_date as fx_rate_date,
        cast(round(valued.nav * fx.rate_to_reporting, 4) as decimal(18, 4)) as nav_reporting,
        cast(round(valued.external_flow * fx.rate_to_reporting, 4) as decimal(18, 4))
            as external_flow_reporting
    from valued
    left join benchmark_returns
        on
            valued.base_currency = benchmark_returns.currency
            and valued.session_date = benchmark_returns.session_date
    left join fx
        on
            valued.base_currency = fx.currency
            and valued.session_date = fx.session_date
),

daily_returns as (
    select
        *,
        case
            when invested_at_open > 0 then cast(nav as double) / cast(invested_at_open as double) - 1
        end as daily_return,
        coalesce(lag(nav_reporting) over (partition by account_id order by session_date), 0)
        + external_flow_reporting as invested_at_open_reporting
    from opening
),

chained as (
    select
        *,
        product(1 + coalesce(daily_return, 0)) over to_date - 1 as cumulative_return,
        product(1 + coalesce(spy_daily_return, 0)) over to_date - 1 as spy_cumulative_return,
        max(nav) over to_date as peak_nav,
        product(
            1 + coalesce(
                case
                    when invested_at_open_reporting > 0
                        then cast(nav_reporting as double) / cast(invested_at_open_reporting as double) - 1
                end,
                0
            )
        ) over to_date - 1 as cumulative_return_reporting,
        case
            when invested_at_open_reporting > 0
                then cast(nav_reporting as double) / cast(invested_at_open_reporting as double) - 1
        end as daily_return_reporting
    from daily_returns
    window to_date as (
        partition by account_id order by session_date
        rows between unbounded preceding and current row
    )
),

peaked as (
    select
        *,
        max(1 + cumulative_return) over (
            partition by account_id order by session_date
            rows between unbounded preceding and current row
        ) as peak_return_index
    from chained
),

final as (
    select
        peaked.account_id,
        peaked.session_date,
        peaked.base_currency,
        cast(peaked.cash as decimal(18, 4)) as cash,
        cast(peaked.market_value as decimal(18, 4)) as market_value,
        cast(peaked.nav as decimal(18, 4)) as nav,
        cast(peaked.deposits as decimal(18, 4)) as deposits,
        cast(peaked.withdrawals as decimal(18, 4)) as withdrawals,
        cast(peaked.external_flow as decimal(18, 4)) as external_flow,
        peaked.daily_return,
        peaked.cumulative_return,
        peaked.spy_daily_return,
        peaked.spy_cumulative_return,
        peaked.daily_return - peaked.spy_daily_return as excess_daily_return,
        peaked.cumulative_return - peaked.spy_cumulative_return as excess_cumulative_return,
        case
            when peaked.peak_nav > 0 then cast(peaked.nav as double) / cast(peaked.peak_nav as double) - 1
        end as nav_drawdown,
        (1 + peaked.cumulative_return) / peaked.peak_return_index - 1 as return_drawdown,
        '{{ var("reporting_currency") }}' as reporting_currency,
        peaked.fx_rate_to_reporting,
        peaked.fx_rate_date,
        peaked.nav_reporting,
        peaked.external_flow_reporting,
        peaked.daily_return_reporting,
        peaked.cumulative_return_reporting
    from peaked
)

select * from final

-- The rate of each currency the portfolio needs into the reporting currency (var
-- reporting_currency), at every XNYS session from the first session of any account through the
-- latest session of market data. The currencies: every account's, the benchmark's, and the
-- reporting currency itself (rate 1, conversion_route 'identity').
--
-- A session's rate is the close of the latest usable FX day at or before the session date
-- (Yahoo's bar of a London day closes at that day's end, a few hours after the NYSE close;
-- pairs trade on every weekday, so it is the same day unless a day is missing), and that day
-- is kept (rate_date) for lineage. A rate older than var fx_max_rate_age_days calendar days is
-- stale (is_rate_stale); fct_fx_rates_daily's tests fail the build on it, and on a session
-- without any rate.
--
-- The route, first that exists: the pair `<currency><reporting>=X` as given ('direct'); the
-- pair the other way round, `<reporting><currency>=X` or Yahoo's `<currency>=X` against USD,
-- as 1 / its close ('inverted'); or through USD, Yahoo's hub, as the currency's rate into USD
-- over the reporting currency's, both of the same day ('through_usd').
with rates as (
    select * from {{ ref('int_fx_rates_validated') }}
    where reject_reason is null
),

sessions as (
    select * from {{ ref('int_trading_sessions_typed') }}
    where exchange = '{{ var("market_exchange") }}'
),

prices as (
    select * from {{ ref('int_bars_1d_adjusted') }}
),

account_cash as (
    select * from {{ ref('int_account_cash_accumulated') }}
),

accounts as (
    select * from {{ ref('stg_brokerage__accounts') }}
),

tickers as (
    select * from {{ ref('int_tickers_enriched') }}
),

currencies as (
    select base_currency as currency from accounts
    where base_currency is not null
    union
    select currency from tickers
    where ticker = '{{ var("benchmark_ticker") }}' and currency is not null
    union
    select '{{ var("reporting_currency") }}' as currency
),

-- Every usable rate both ways: `from` in `to`, and `to` in `from`.
both_ways as (
    select
        from_currency as currency,
        to_currency as into_currency,
        pair_symbol,
        fx_date,
        rate,
        'direct' as conversion_route
    from rates
    union all
    select
        to_currency as currency,
        from_currency as into_currency,
        pair_symbol,
        fx_date,
        1 / rate as rate,
        'inverted' as conversion_route
    from rates
),

into_reporting as (
    select
        currency,
        pair_symbol,
        fx_date,
        rate as rate_to_reporting,
        conversion_route,
        case conversion_route when 'direct' then 1 else 2 end as preference
    from both_ways
    where into_currency = '{{ var("reporting_currency") }}'
),

through_usd as (
    select
        currency_in_usd.currency,
        currency_in_usd.pair_symbol || ' / ' || reporting_in_usd.pair_symbol as pair_symbol,
        currency_in_usd.fx_date,
        currency_in_usd.rate / reporting_in_usd.rate as rate_to_reporting,
        'through_usd' as conversion_route,
        3 as preference
    from both_ways as currency_in_usd
    inner join both_ways as reporting_in_usd
        on
            currency_in_usd.fx_date = reporting_in_usd.fx_date
            and reporting_in_usd.currency = '{{ var("reporting_currency") }}'
            and reporting_in_usd.into_currency = 'USD'
    where
        currency_in_usd.into_currency = 'USD'
        and currency_in_usd.currency != '{{ var("reporting_currency") }}'
),

-- One route per currency: the most direct one that has any rate, its first pair by symbol.
routes as (
    select * from into_reporting
    union all
    select * from through_usd
),

chosen as (
    select *
    from routes
    qualify dense_rank() over (partition by currency order by preference, pair_symbol) = 1
),

span as (
    select
        (select min(account_cash.session_date) from account_cash) as first_session_date,
        (select max(prices.trade_date) from prices) as last_session_date
),

currency_sessions as (
    select
        currencies.currency,
        sessions.session_date
    from currencies
    cross join sessions
    cross join span
    where sessions.session_date between span.first_session_date and span.last_session_date
),

carried as (
    select
        currency_sessions.currency,
        currency_sessions.session_date,
        chosen.fx_date,
        chosen.rate_to_reporting,
        chosen.pair_symbol,
        chosen.conversion_route
    from currency_sessions
    asof left join chosen
        on
            currency_sessions.currency = chosen.currency
            and currency_sessions.session_date >= chosen.fx_date
),

final as (
    select
        currency,
        session_date,
        '{{ var("reporting_currency") }}' as reporting_currency,
        case when currency = '{{ var("reporting_currency") }}' then 1.0 else rate_to_reporting end
            as rate_to_reporting,
        case when currency = '{{ var("reporting_currency") }}' then session_date else fx_date end
            as rate_date,
        case when currency != '{{ var("reporting_currency") }}' then pair_symbol end as pair_symbol,
        case when currency = '{{ var("reporting_currency") }}' then 'identity' else conversion_route end
            as conversion_route,
        cast(
            case
                when currency = '{{ var("reporting_currency") }}' then 0
                else date_diff('day', fx_date, session_date)
            end as integer
        ) as rate_age_days,
        coalesce(
            currency != '{{ var("reporting_currency") }}'
            and date_diff('day', fx_date, session_date) > {{ var("fx_max_rate_age_days") }},
            false
        ) as is_rate_stale
    from carried
)

select * from final

-- The benchmark's (var benchmark_ticker, SPY) daily return in each currency of
-- int_fx_rates_carried, at every session there: its own return from adjusted closes (dividends
-- reinvested) times the move of its currency against the other one, both rates into the
-- reporting currency: (1 + r) x (b_t / b_t-1) / (c_t / c_t-1) - 1. In its own currency that is
-- its return as it is; on the first session of the rates (no earlier rate) null elsewhere.
-- So an account is compared with the benchmark in the account's currency, and the
-- consolidated portfolio with it in the reporting currency.
with rates as (
    select * from {{ ref('int_fx_rates_carried') }}
),

prices as (
    select * from {{ ref('int_bars_1d_adjusted') }}
),

tickers as (
    select * from {{ ref('int_tickers_enriched') }}
),

benchmark_returns as (
    select
        trade_date as session_date,
        adj_close / lag(adj_close) over (order by trade_date) - 1 as daily_return
    from prices
    where ticker = '{{ var("benchmark_ticker") }}'
),

rate_moves as (
    select
        currency,
        session_date,
        rate_to_reporting / lag(rate_to_reporting) over (partition by currency order by session_date)
            as rate_change
    from rates
),

final as (
    select
        currency_moves.currency,
        currency_moves.session_date,
        case
            when currency_moves.currency = benchmark.currency or benchmark.currency is null
                then benchmark_returns.daily_return
            else
                (1 + benchmark_returns.daily_return)
                * benchmark_moves.rate_change / currency_moves.rate_change - 1
        end as benchmark_daily_return
    from rate_moves as currency_moves
    left join tickers as benchmark
        on benchmark.ticker = '{{ var("benchmark_ticker") }}'
    left join rate_moves as benchmark_moves
        on
            benchmark.currency = benchmark_moves.currency
            and currency_moves.session_date = benchmark_moves.session_date
    inner join benchmark_returns
        on currency_moves.session_date = benchmark_returns.session_date
)

select * from final

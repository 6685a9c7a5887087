-- Every staged daily bar as traded, each with the reason it cannot be used (null = clean).
-- Nothing is dropped here: marts take `reject_reason is null`, analysts can query the rest.
--
-- Yahoo answers with prices, volume and dividends split-adjusted as of the day of the request
-- (`adjusted_as_of`), so a warehouse loaded day by day holds bars adjusted as of different
-- days. Multiplying each bar by the splits between its own day and its request day
-- (split_factor_since_trade) gives the price as traded that day, whatever day it was fetched:
-- one basis for every later model, which then adjusts once, from the splits (docs/architecture.md).
with bars as (
    select * from {{ ref('stg_yfinance__bars_1d') }}
    -- the currency pairs Yahoo lists as `EURUSD=X` are int_fx_rates_validated's, not bars
    where not {{ is_currency_pair('ticker') }}
),

splits as (
    select * from {{ ref('int_splits_recorded') }}
),

-- A dividend is per share held before its ex-date, and Yahoo's dividend on a split's ex-date
-- is on the split-adjusted basis of the close before it (4063.T: 55 = 275 / 5 on 2023-03-30,
-- with Adj Close using 55 / 4206): its factor takes that day's split too.
split_factors as (
    select
        bars.ticker,
        bars.trade_date,
        bars.adjusted_as_of,
        product(
            case when splits.ex_date > bars.trade_date then splits.split_ratio else 1.0 end
        ) as split_factor_since_trade,
        product(splits.split_ratio) as dividend_split_factor
    from bars
    inner join splits
        on
            bars.ticker = splits.ticker
            and bars.trade_date <= splits.ex_date
            and bars.adjusted_as_of >= splits.ex_date
    group by bars.ticker, bars.trade_date, bars.adjusted_as_of
),

as_traded as (
    select
        bars.ticker,
        bars.trade_date,
        bars.adj_close,
        bars.split_ratio,
        bars.adjusted_as_of,
        bars.loaded_at,
        bars.load_id,
        {{ as_traded_bar('bars', 'factors.split_factor_since_trade') }},
        bars.dividend_per_share
        * coalesce(factors.dividend_split_factor, 1.0) as dividend_per_share
    from bars
    left join split_factors as factors
        on
            bars.ticker = factors.ticker
            and bars.trade_date = factors.trade_date
            and bars.adjusted_as_of = factors.adjusted_as_of
),

versioned as (
    select
        *,
        row_number() over (
            partition by ticker, trade_date
            order by loaded_at desc, load_id desc
        ) as version_rank
    from as_traded
),

validated as (
    select
        ticker,
        trade_date,
        open,
        high,
        low,
        close,
        adj_close,
        volume,
        dividend_per_share,
        split_ratio,
        adjusted_as_of,
        split_factor_since_trade,
        loaded_at,
        load_id,
        case
            when version_rank > 1 then 'duplicate_superseded'
            {{ ohlc_reject_reason('open', 'high', 'low', 'close', 'volume') }}
            when trade_date > current_date then 'in_the_future'
        end as reject_reason
    from versioned
)

select * from validated

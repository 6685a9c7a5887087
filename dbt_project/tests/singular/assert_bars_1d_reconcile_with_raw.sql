-- Nothing is silently dropped: per ticker and day, raw rows = clean (in the mart) + rejected
-- (by validation or by the checks across bars: both land in fct_quarantined_bars).
-- Returns the (ticker, trade_date) pairs where the counts disagree.
with raw_rows as (
    select
        ticker,
        trade_date,
        count(*) as n_raw
    from {{ source('yfinance', 'bars_1d') }}
    group by ticker, trade_date
),

clean_rows as (
    select
        ticker,
        trade_date,
        count(*) as n_clean
    from {{ ref('fct_prices_daily') }}
    group by ticker, trade_date
),

rejected_rows as (
    select
        ticker,
        trade_date,
        count(*) as n_rejected
    from {{ ref('fct_quarantined_bars') }}
    where bar_interval = '1d'
    group by ticker, trade_date
)

select
    raw_rows.ticker,
    raw_rows.trade_date,
    raw_rows.n_raw,
    coalesce(clean_rows.n_clean, 0) as n_clean,
    coalesce(rejected_rows.n_rejected, 0) as n_rejected
from raw_rows
left join clean_rows
    on raw_rows.ticker = clean_rows.ticker and raw_rows.trade_date = clean_rows.trade_date
left join rejected_rows
    on raw_rows.ticker = rejected_rows.ticker and raw_rows.trade_date = rejected_rows.trade_date
where raw_rows.n_raw != coalesce(clean_rows.n_clean, 0) + coalesce(rejected_rows.n_rejected, 0)

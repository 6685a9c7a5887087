-- Nothing is silently dropped: per ticker and New York day, raw minute bars = bars traded in
-- fct_bars_1m (filled minutes excluded) + bars in quarantine.
with raw_rows as (
    select
        ticker,
        cast(timezone('America/New_York', ts) as date) as trade_date,
        count(*) as n_raw
    from {{ source('yfinance', 'bars_1m') }}
    group by all
),

clean_rows as (
    select
        ticker,
        session_date as trade_date,
        count(*) as n_clean
    from {{ ref('fct_bars_1m') }}
    where not is_filled
    group by all
),

rejected_rows as (
    select
        ticker,
        trade_date,
        count(*) as n_rejected
    from {{ ref('fct_quarantined_bars') }}
    where bar_interval = '1m'
    group by all
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

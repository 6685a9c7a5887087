-- Every bar kept out of the marts, with the reason: what analysts query to see what was
-- rejected and why. Raw rows = clean rows + these (tested per ticker and day).
with minute_rejects as (
    select
        '1m' as bar_interval,
        ticker,
        bar_date as trade_date,  -- the session's date, else the exchange-local date
        bar_at,
        open,
        high,
        low,
        close,
        volume,
        reject_reason,
        load_id
    from {{ ref('int_bars_1m_validated') }}
    where reject_reason is not null
),

daily_rejects as (
    select
        '1d' as bar_interval,
        ticker,
        trade_date,
        cast(null as timestamptz) as bar_at,
        open,
        high,
        low,
        close,
        volume,
        reject_reason,
        load_id
    from {{ ref('int_bars_1d_validated') }}
    where reject_reason is not null
),

-- Clean bars that the checks across bars reject (a 100x unit switch): wrong, so out too.
daily_check_rejects as (
    select
        '1d' as bar_interval,
        ticker,
        trade_date,
        cast(null as timestamptz) as bar_at,
        open,
        high,
        low,
        close,
        volume,
        reject_reason,
        load_id
    from {{ ref('int_bars_1d_checked') }}
    where reject_reason is not null
),

final as (
    select * from minute_rejects
    union all
    select * from daily_rejects
    union all
    select * from daily_check_rejects
)

select * from final

-- The splits Yahoo recorded, one row per ticker and ex-date, from every staged daily bar
-- (also from bars that fail validation: a bad price does not make the split less real).
-- The one list of splits that turns Yahoo's split-adjusted bars back into as-traded ones
-- (int_bars_1d_validated, int_bars_1m_validated). The latest load of a row wins, as for bars.
with bars as (
    select * from {{ ref('stg_yfinance__bars_1d') }}
),

versioned as (
    select
        ticker,
        trade_date,
        split_ratio,
        row_number() over (
            partition by ticker, trade_date
            order by loaded_at desc, load_id desc
        ) as version_rank
    from bars
),

final as (
    select
        ticker,
        trade_date as ex_date,
        split_ratio
    from versioned
    where version_rank = 1 and split_ratio != 1 and split_ratio > 0
)

select * from final

-- Every staged daily bar, each with the reason it cannot be used (null = clean).
-- Nothing is dropped here: marts take `reject_reason is null`, analysts can query the rest.
with bars as (
    select * from {{ ref('stg_yfinance__bars_1d') }}
),

versioned as (
    select
        *,
        row_number() over (
            partition by ticker, trade_date
            order by loaded_at desc, load_id desc
        ) as version_rank
    from bars
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
        loaded_at,
        load_id,
        case
            when version_rank > 1 then 'duplicate_superseded'
            when
                open is null or high is null or low is null or close is null
                then 'missing_price'
            when least(open, high, low, close) <= 0 then 'non_positive_price'
            when high < low then 'high_below_low'
            when
                open not between low and high or close not between low and high
                then 'open_or_close_outside_range'
            when volume < 0 then 'negative_volume'
            when trade_date > current_date then 'in_the_future'
        end as reject_reason
    from versioned
)

select * from validated

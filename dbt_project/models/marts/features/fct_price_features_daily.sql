-- Daily price features per ticker, on the adjusted close. A feature is null until its
-- window is full, so a short history never masquerades as a 20-session average.
with clean_bars as (
    select * from {{ ref('int_bars_1d_adjusted') }}
),

windowed as (
    select
        ticker,
        trade_date,
        close,
        adj_close,
        adj_high as high,
        adj_low as low,
        volume,
        lag(adj_close) over by_ticker as previous_adj_close,
        count(adj_close) over last_20_sessions as sessions_in_window_20,
        avg(adj_close) over last_20_sessions as mean_adj_close_20
    from clean_bars
    window
        by_ticker as (partition by ticker order by trade_date),
        last_20_sessions as (
            partition by ticker order by trade_date
            rows between 19 preceding and current row
        )
),

final as (
    select
        ticker,
        trade_date,
        close,
        adj_close,
        high,
        low,
        volume,
        adj_close / previous_adj_close - 1 as return_1d,
        ln(adj_close / previous_adj_close) as log_return_1d,
        case when sessions_in_window_20 = 20 then mean_adj_close_20 end as sma_20
    from windowed
)

select * from final

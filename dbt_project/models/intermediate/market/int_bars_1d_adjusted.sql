-- Clean daily bars with split and dividend adjustment computed from the actions.
--
-- Yahoo's convention, applied here to the as-traded bars: an event on ex-date j scales every
-- earlier price by f_j = (1 / split_ratio_j) * (1 - dividend_j / close_{j-1}), so
--   adjustment_factor_t = product of f_j over events after t,   adj_close_t = close_t * factor_t.
-- The product runs over the following rows (DuckDB's product() as a window function, exact
-- where the factors are); the last row has no following rows and gets exactly 1.
-- Computing it here (not trusting the stored adj_close) keeps old rows right after a later
-- split or dividend, which an incremental load never re-fetches.
-- session_number counts the ticker's clean sessions: the incremental runs of
-- int_bars_1d_smoothed and fct_price_features_daily pick their lookback rows by it.
with clean_bars as (
    select * from {{ ref('int_bars_1d_checked') }}
    where reject_reason is null
),

event_factors as (
    select
        *,
        row_number() over by_ticker as session_number,
        lag(close) over by_ticker as previous_close,
        (1.0 / split_ratio)
        * (1.0 - dividend_per_share / coalesce(lag(close) over by_ticker, close)) as event_factor,
        1.0 / split_ratio as split_factor
    from clean_bars
    window by_ticker as (partition by ticker order by trade_date)
),

adjusted as (
    select
        *,
        coalesce(
            product(event_factor) over (
                partition by ticker order by trade_date
                rows between 1 following and unbounded following
            ),
            1.0
        ) as adjustment_factor,
        -- Volume follows splits only (a dividend does not change the share count).
        coalesce(
            product(split_factor) over (
                partition by ticker order by trade_date
                rows between 1 following and unbounded following
            ),
            1.0
        ) as split_adjustment_factor
    from event_factors
),

final as (
    select
        ticker,
        trade_date,
        session_number,
        open,
        high,
        low,
        close,
        volume,
        dividend_per_share,
        split_ratio,
        adjustment_factor,
        close * adjustment_factor as adj_close,
        open * adjustment_factor as adj_open,
        high * adjustment_factor as adj_high,
        low * adjustment_factor as adj_low,
        split_adjustment_factor,
        volume / split_adjustment_factor as adj_volume,
        adj_close as provider_adj_close,
        previous_close,
        load_id
    from adjusted
)

select * from final

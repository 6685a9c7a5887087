-- Daily bars and features of the last 13 months per ticker: a year of candles on the
-- ticker pages, and the latest session for the overview. The features are computed in dbt
-- on adjusted prices; the candle's open is adjusted here the way fct_prices_daily says
-- (as traded x adjustment_factor), because fct_price_features_daily has adjusted high, low
-- and close but no open.
-- volume_split_adjusted is in today's shares, like the adjusted prices beside it (a 2:1 split
-- doubles every earlier session's volume): as traded x the ratios of the later splits, the
-- split-only part of int_bars_1d_adjusted's factor (its adj_volume, which no mart exposes yet).
-- The window sees only the 13 months kept (where runs first), which hold every session after
-- a kept one: the only ones the product needs.
with features as (
    select * from {{ ref('fct_price_features_daily') }}
),

prices as (
    select * from {{ ref('fct_prices_daily') }}
),

tickers as (
    select * from {{ ref('dim_tickers') }}
),

latest_session as (
    select max(trade_date) as trade_date from features
),

final as (
    select
        features.ticker,
        features.trade_date,
        -- adjusted like adj_close, and named so: close (as traded) lies outside an adjusted
        -- [low, high] before a split or a dividend
        prices.open * prices.adjustment_factor as adj_open,
        features.adj_high,
        features.adj_low,
        features.adj_close,
        features.close,
        features.volume,
        features.volume * coalesce(
            product(prices.split_ratio) over (
                partition by features.ticker order by features.trade_date
                rows between 1 following and unbounded following
            ),
            1.0
        ) as volume_split_adjusted,
        -- The ticker page marks these days on its price chart.
        prices.split_ratio,
        prices.dividend_per_share,
        -- Not the rollups' dollar_volume (typical price x volume, fct_bars_5m): the close x
        -- volume, in the ticker's major currency (a London close in pence is counted in
        -- pounds), so it can be ranked and summed across tickers; not converted (no FX).
        features.close * tickers.price_to_major_unit * features.volume as close_dollar_volume,
        tickers.currency as close_dollar_volume_currency,
        features.return_1d,
        features.return_5d,
        features.return_21d,
        features.sma_20,
        features.sma_50,
        features.sma_200,
        features.bb_upper_20,
        features.bb_middle_20,
        features.bb_lower_20,
        features.bb_pct_b_20,
        features.rsi_14,
        features.macd,
        features.macd_signal,
        features.macd_hist,
        features.atr_14,
        features.volatility_20d,
        features.drawdown,
        features.high_52w,
        features.low_52w,
        features.pct_from_high_52w,
        features.volume_zscore_20,
        features.beta_60d
    from features
    inner join prices
        on
            features.ticker = prices.ticker
            and features.trade_date = prices.trade_date
    inner join tickers
        on features.ticker = tickers.ticker
    inner join latest_session
        on features.trade_date >= latest_session.trade_date - interval 396 day
)

select * from final

-- Daily bars and features of the last 13 months per ticker: a year of candles on the
-- ticker pages, and the latest session for the overview. The features are computed in dbt
-- on adjusted prices; the candle's open is adjusted here the way fct_prices_daily says
-- (as traded x adjustment_factor), because fct_price_features_daily has adjusted high, low
-- and close but no open.
select
    features.ticker,
    features.trade_date,
    prices.open * prices.adjustment_factor as open,
    features.high,
    features.low,
    features.adj_close,
    features.close,
    features.volume,
    features.close * features.volume as dollar_volume,
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
from marts.fct_price_features_daily as features
inner join marts.fct_prices_daily as prices
    on features.ticker = prices.ticker
    and features.trade_date = prices.trade_date
where features.trade_date >= (select max(trade_date) from marts.fct_price_features_daily) - interval 396 day

-- Daily features of the last ~6 months: enough for the overview's charts, small for the browser.
select
    ticker,
    trade_date,
    close,
    adj_close,
    volume,
    return_1d,
    sma_20
from marts.fct_price_features_daily
where trade_date >= (select max(trade_date) from marts.fct_price_features_daily) - interval 183 day

-- The words the pages show for the marts' reason codes (quarantined bars and transactions,
-- anomaly flags), and for anomaly scores their unit, so that no page shows a raw code or a
-- score without its meaning. Codes and score definitions: the models' YAML
-- (fct_quarantined_bars, fct_quarantined_transactions, fct_transaction_anomalies,
-- fct_intraday_alerts). A code missing here is shown with its underscores as spaces.
select *
from (
    values
        -- Bars (int_bars_1d_checked, int_bars_1m_checked)
        ('bar', 'non_positive_price', 'price zero or negative', null),
        ('bar', 'missing_price', 'price missing', null),
        ('bar', 'high_below_low', 'high below low', null),
        ('bar', 'open_or_close_outside_range', 'open or close outside the high-low range', null),
        ('bar', 'negative_volume', 'negative volume', null),
        ('bar', 'outside_session', 'outside the trading session', null),
        ('bar', 'not_on_minute_boundary', 'not on a minute boundary', null),
        ('bar', 'in_the_future', 'dated in the future', null),
        ('bar', 'unknown_ticker', 'ticker not in the universe', null),
        ('bar', 'duplicate_superseded', 'duplicate, superseded by a later load', null),
        -- Broker rows kept out of the marts
        ('transaction', 'duplicate_id', 'duplicate transaction id', null),
        ('transaction', 'unknown_action', 'unknown action', null),
        ('transaction', 'missing_timestamp', 'no execution time', null),
        ('transaction', 'future_timestamp', 'executed in the future', null),
        ('transaction', 'unknown_account', 'unknown account', null),
        ('transaction', 'unknown_ticker', 'ticker not in the universe', null),
        ('transaction', 'currency_mismatch', 'currency differs from the account''s', null),
        ('transaction', 'non_positive_quantity', 'quantity zero or negative', null),
        ('transaction', 'non_positive_price', 'price zero or negative', null),
        ('transaction', 'invalid_amount', 'amount missing or invalid', null),
        ('transaction', 'oversell', 'sells more shares than held', null),
        -- Anomaly flags on accepted transactions; the last column is the score's unit
        ('anomaly', 'price_outside_session_range', 'price outside the session''s range', 'share_beyond'),
        ('anomaly', 'price_outside_minute_range', 'price outside its minute''s range', 'share_beyond'),
        ('anomaly', 'outside_session', 'executed outside the session', 'minutes'),
        ('anomaly', 'unusual_size', 'unusual trade size', 'z_score'),
        ('anomaly', 'probable_duplicate', 'probable duplicate', 'closeness'),
        ('anomaly', 'split_disagrees', 'split disagrees with the market data', 'relative_error'),
        ('anomaly', 'amount_disagrees', 'amount disagrees with quantity x price', 'currency'),
        -- Intraday alerts; the last column is the unit of their measured value and threshold
        ('alert', 'vwap_cross_up', 'crossed above the VWAP', 'price'),
        ('alert', 'vwap_cross_down', 'crossed below the VWAP', 'price'),
        ('alert', 'volume_spike', 'volume spike', 'shares'),
        ('alert', 'new_session_high', 'new session high', 'price'),
        ('alert', 'new_session_low', 'new session low', 'price'),
        ('alert', 'large_move_up', 'large move up', 'log_return'),
        ('alert', 'large_move_down', 'large move down', 'log_return'),
        ('alert', 'rsi_overbought', 'RSI crossed 70 (overbought)', 'rsi'),
        ('alert', 'rsi_oversold', 'RSI crossed 30 (oversold)', 'rsi')
) as labels (kind, code, label, score_unit)

"""dlt source for Yahoo Finance: bars_1m, bars_1d and tickers in raw_yfinance."""

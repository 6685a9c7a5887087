select * from reporting.rpt_tickers

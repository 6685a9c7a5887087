select * from reporting.rpt_portfolio_daily

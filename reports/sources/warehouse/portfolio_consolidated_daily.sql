select * from reporting.rpt_portfolio_consolidated_daily

select * from reporting.rpt_portfolio_returns

select * from reporting.rpt_portfolio_accounts_reporting

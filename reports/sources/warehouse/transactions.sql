select * from reporting.rpt_transactions

select * from reporting.rpt_quarantined_transactions

select * from reporting.rpt_transaction_anomalies

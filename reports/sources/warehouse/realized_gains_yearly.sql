select * from reporting.rpt_realized_gains_yearly

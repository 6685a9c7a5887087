select * from reporting.rpt_daily_features

select * from reporting.rpt_intraday_latest_session

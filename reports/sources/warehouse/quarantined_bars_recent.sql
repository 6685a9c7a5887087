select * from reporting.rpt_quarantined_bars_recent

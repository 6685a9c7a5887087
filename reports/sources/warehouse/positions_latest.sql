select * from reporting.rpt_positions_latest

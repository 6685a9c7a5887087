select * from reporting.rpt_lots_realized

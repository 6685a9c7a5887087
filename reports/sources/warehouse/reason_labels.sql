select * from reporting.rpt_reason_labels

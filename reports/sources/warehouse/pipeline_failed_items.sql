select * from reporting.rpt_pipeline_failed_items

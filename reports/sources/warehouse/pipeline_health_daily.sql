select * from reporting.rpt_pipeline_health_daily

select * from reporting.rpt_dbt_build_history

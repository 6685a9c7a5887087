select * from reporting.rpt_dbt_node_results

select * from reporting.rpt_pipeline_unparsed_cells

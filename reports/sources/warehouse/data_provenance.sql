select * from reporting.rpt_data_provenance

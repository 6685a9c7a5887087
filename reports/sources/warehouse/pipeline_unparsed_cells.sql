-- Cells the ingest runs could not read, per run, file and column (the broker loads).
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls when every cell parsed.
select cells.*
from (select 1) as one_row
left join (
    select
        run_id,
        pipeline,
        timezone('UTC', started_at) as started_at_utc,
        run_date,
        is_latest_run_of_pipeline,
        item,
        column_name,
        unparsed_cells
    from marts.fct_pipeline_unparsed_cells
) as cells on true

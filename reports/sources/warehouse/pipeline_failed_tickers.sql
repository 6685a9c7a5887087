-- One row per ticker (or file) that failed in an ingest run of the last 180 days, with the
-- reason the run recorded (fct_pipeline_runs.tickers_failed is a JSON list).
-- Never empty (a source without rows breaks the site, see transactions.sql): one row of
-- nulls when nothing failed.
with runs as (
    select
        run_id,
        pipeline,
        started_at,
        run_date,
        unnest(from_json(tickers_failed, '[{"ticker": "VARCHAR", "reason": "VARCHAR"}]')) as failure
    from marts.fct_pipeline_runs
    where run_date >= (select max(run_date) from marts.fct_pipeline_runs) - interval 180 day
),

failures as (
    select
        run_id,
        pipeline,
        timezone('UTC', started_at) as started_at_utc,
        run_date,
        failure.ticker as ticker,
        failure.reason as reason
    from runs
)

select failures.*
from (select 1) as one_row
left join failures on true

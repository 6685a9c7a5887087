-- Per delivered session: when its data landed against the SLA deadline, times as UTC
-- timestamps.
with health as (
    select * from {{ ref('fct_pipeline_health_daily') }}
),

final as (
    select
        session_date,
        timezone('UTC', close_at) as close_at_utc,
        timezone('UTC', sla_deadline_at) as sla_deadline_at_utc,
        timezone('UTC', first_landed_at) as first_landed_at_utc,
        runs,
        failed_runs,
        cast(rows_written as bigint) as rows_written,
        max_items_failed,
        is_on_time,
        minutes_late
    from health
)

select * from final

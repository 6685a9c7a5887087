-- Per session whose market data a run brought or tried to bring: when it first landed and
-- whether that was on time, i.e. within `load_sla_hours_after_close` hours of that session's close.
with runs as (
    select * from {{ ref('fct_pipeline_runs') }}
    where pipeline in ('yfinance', 'sample_market')
),

sessions as (
    select * from {{ ref('int_trading_sessions_generated') }}
    where exchange = '{{ var("market_exchange") }}'
),

-- A run that brought no data (a failed load) still counts, against the session it was
-- loading: the latest one closed when it started. Left out, a failed load showed 0 failed runs.
attempted_sessions as (
    select
        runs.run_id,
        max(sessions.session_date) as session_date
    from runs
    inner join sessions
        on runs.started_at >= sessions.close_at
    where runs.latest_data_date is null
    group by runs.run_id
),

runs_by_session as (
    select
        runs.status,
        runs.finished_at,
        runs.rows_written,
        runs.items_failed_count,
        coalesce(runs.latest_data_date, attempted_sessions.session_date) as session_date
    from runs
    left join attempted_sessions
        on runs.run_id = attempted_sessions.run_id
),

per_session as (
    select
        session_date,
        count(*) as runs,
        count(*) filter (where status = 'failed') as failed_runs,
        min(finished_at) filter (where status in ('success', 'partial')) as first_landed_at,
        sum(rows_written) as rows_written,
        max(items_failed_count) as max_items_failed
    from runs_by_session
    where session_date is not null
    group by session_date
),

final as (
    select
        per_session.session_date,
        sessions.close_at,
        sessions.close_at + to_hours({{ var('load_sla_hours_after_close') }}) as sla_deadline_at,
        per_session.first_landed_at,
        cast(per_session.runs as bigint) as runs,
        cast(per_session.failed_runs as bigint) as failed_runs,
        per_session.rows_written,
        per_session.max_items_failed,
        coalesce(
            per_session.first_landed_at
            <= sessions.close_at + to_hours({{ var('load_sla_hours_after_close') }}),
            false
        ) as is_on_time,
        date_diff(
            'minute', sessions.close_at + to_hours({{ var('load_sla_hours_after_close') }}),
            per_session.first_landed_at
        ) as minutes_late
    from per_session
    inner join sessions
        on per_session.session_date = sessions.session_date
)

select * from final

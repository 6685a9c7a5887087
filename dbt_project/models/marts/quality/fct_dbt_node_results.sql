-- A view, so it shows the results the on-run-end hook has just written: after `dbt build`
-- the data-quality page reads this very build, with no second run.
{{ config(materialized='view') }}

with run_results as (
    select * from {{ ref('stg_dbt_audit__run_results') }}
),

latest_invocations as (
    select
        command,
        arg_max(invocation_id, recorded_at) as invocation_id
    from run_results
    group by command
),

final as (
    select
        run_results.invocation_id,
        run_results.command,
        run_results.target_name,
        run_results.run_started_at,
        run_results.unique_id,
        run_results.resource_type,
        run_results.node_name,
        run_results.severity,
        run_results.status,
        run_results.failures,
        run_results.execution_seconds,
        run_results.message,
        latest_invocations.invocation_id is not null as is_latest_of_command
    from run_results
    left join latest_invocations
        on
            run_results.command = latest_invocations.command
            and run_results.invocation_id = latest_invocations.invocation_id
)

select * from final

-- The node results of the latest invocation of each dbt command (the last build, the last
-- source freshness check, ...).
with node_results as (
    select * from {{ ref('fct_dbt_node_results') }}
),

final as (
    select
        command,
        target_name,
        timezone('UTC', run_started_at) as run_started_at_utc,
        resource_type,
        node_name,
        severity,
        status,
        failures,
        execution_seconds,
        message
    from node_results
    where is_latest_of_command
)

select * from final

-- dbt's record of its own invocations, one row per node result (the on-run-end hook writes it
-- already typed). A view, so the quality mart above it shows the build that has just run.
with source as (
    select * from {{ source('dbt_audit', 'run_results') }}
),

renamed as (
    select
        invocation_id,
        command,
        target_name,
        run_started_at,
        recorded_at,
        unique_id,
        resource_type,
        node_name,
        severity,
        status,
        failures,
        execution_seconds,
        message
    from source
)

select * from renamed

-- Node outcomes per dbt build, counted per status: the trend of the data-quality page.
with node_results as (
    select * from {{ ref('fct_dbt_node_results') }}
),

final as (
    select
        invocation_id,
        timezone('UTC', run_started_at) as run_started_at_utc,
        resource_type,
        status,
        count(*) as nodes,
        cast(coalesce(sum(failures), 0) as bigint) as failing_rows
    from node_results
    where command = 'build'
    group by all
)

select * from final

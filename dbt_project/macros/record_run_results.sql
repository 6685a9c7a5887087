{#- The audit of every dbt invocation, written by dbt itself: on-run-start makes sure the
    table exists, on-run-end appends one row per node result of this invocation (models,
    tests, unit tests, seeds, source freshness). The quality marts read it, so the data-quality
    page shows the last build as it happened, with no manual step. Only this project's nodes:
    a package's (dbt-project-evaluator's models and tests) are not the data's quality. -#}
{% macro create_run_results_table() %}
    create schema if not exists dbt_audit;
    create table if not exists dbt_audit.run_results (
        invocation_id varchar,
        command varchar,
        target_name varchar,
        run_started_at timestamptz,
        recorded_at timestamptz,
        unique_id varchar,
        resource_type varchar,
        node_name varchar,
        severity varchar,
        status varchar,
        failures bigint,
        execution_seconds double,
        message varchar
    );
{% endmacro %}

{% macro record_run_results(results) %}
    {%- set results = results | selectattr('node.package_name', 'equalto', project_name) | list -%}
    {%- if not execute or results | length == 0 -%}
        select 1
    {%- else -%}
        insert into dbt_audit.run_results values
        {%- for result in results %}
            {%- set node = result.node %}
            {%- set severity = node.config.severity if node.resource_type in ('test', 'unit_test') else none %}
            {%- set message = result.message %}
            {#- A freshness result has no message: say the data's age and the thresholds it was
                judged against ("age 10 d 18 h, data through 2026-11-20 21:00 UTC; warn after
                4 days, error after 7 days"), for the data-quality page. -#}
            {%- if node.resource_type == 'source' and result.age is defined and result.age is not none %}
                {%- set age = result.age | int %}
                {%- set age_text = (age // 86400) ~ ' d ' ~ (age % 86400 // 3600) ~ ' h' if age >= 86400
                    else (age // 3600) ~ ' h ' ~ (age % 3600 // 60) ~ ' min' %}
                {%- set thresholds = [] %}
                {%- for kind, after in [('warn', node.freshness.warn_after), ('error', node.freshness.error_after)] if after and after.count is not none %}
                    {%- do thresholds.append(kind ~ ' after ' ~ after.count ~ ' ' ~ (after.period if after.count == 1 else after.period.plural())) %}
                {%- endfor %}
                {%- set message = 'age ' ~ age_text ~ ', data through '
                    ~ result.max_loaded_at.strftime('%Y-%m-%d %H:%M') ~ ' UTC; '
                    ~ (thresholds | join(', ') or 'no thresholds') %}
            {%- endif %}
            (
                '{{ invocation_id }}',
                '{{ flags.WHICH }}',
                '{{ target.name }}',
                cast('{{ run_started_at.isoformat() }}' as timestamptz),
                now(),
                '{{ node.unique_id }}',
                '{{ node.resource_type }}',
                '{{ node.name }}',
                {{ "'" ~ severity | lower ~ "'" if severity else 'null' }},
                '{{ result.status }}',
                {{ result.failures if result.failures is not none else 'null' }},
                {{ result.execution_time }},
                {{ "'" ~ (message | string | replace("'", "''"))[:500] ~ "'" if message else 'null' }}
            ){{ "," if not loop.last }}
        {%- endfor %}
    {%- endif -%}
{% endmacro %}

{#- on-run-start: the log of incremental minute rewrites (one row per model and run, written
    by minute_range_delete), read by minute_test_scope. -#}
{% macro create_minute_rewrites_table() %}
    create schema if not exists dbt_audit;
    create table if not exists dbt_audit.minute_rewrites (
        invocation_id varchar,
        model varchar,
        first_session_date date,
        recorded_at timestamptz
    );
{% endmacro %}

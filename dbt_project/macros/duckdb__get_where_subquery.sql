{#- dbt's own get_where_subquery (the `where` config of a data test) plus the minute scope: a
    data test of a minute relation in a daily `dbt build` reads only the rows the run rewrote
    (minute_test_scope), the full scan stays for the first and full builds, `dbt test` and
    --vars 'minute_tests: all'. Found through the project's dispatch search order. -#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set scope = minute_test_scope(relation) -%}
    {%- if scope -%}
        {%- do filters.append(scope) -%}
    {%- endif -%}
    {%- if filters -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

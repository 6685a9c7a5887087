{#- The first session the minute model `model_name` rewrites in this invocation (a date), or
    none when the minute data tests must read every row: not a `dbt build` (a `dbt test` alone
    scans all), --full-refresh, var minute_tests = 'all' (the weekly full run), the model was
    built whole in this invocation (a first build: minute_range_delete records null), or it
    did not run in it.
    `before`: the relation under test is upstream of the model (a raw source, a staging view),
    and dbt build tests parents before running a model: when the model has not run yet in this
    invocation, the session is the cutoff its run will use (minute_cutoff_session_date on its
    table as it stands), none when the table does not exist yet. -#}
{% macro minute_tests_first_session(model_name, before=false) -%}
    {%- if not execute or flags.WHICH != 'build' or flags.FULL_REFRESH or var('minute_tests', 'rewritten') == 'all' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*), min(first_session_date) from dbt_audit.minute_rewrites "
        ~ "where invocation_id = '" ~ invocation_id ~ "' and model = '" ~ model_name ~ "'"
    ) -%}
    {%- if found.rows[0][0] > 0 -%}
        {{ return(found.rows[0][1]) }}
    {%- endif -%}
    {%- if not before -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relations = {} -%}
    {%- for name in [model_name, 'int_trading_sessions_expanded'] -%}
        {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
            | selectattr('name', 'equalto', name) | list -%}
        {%- do relations.update({name: adapter.get_relation(
            database=nodes[0].database, schema=nodes[0].schema, identifier=nodes[0].alias
        ) if nodes else none}) -%}
    {%- endfor -%}
    {%- if relations[model_name] is none or relations['int_trading_sessions_expanded'] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set literal = minute_cutoff_session_date(relations[model_name], relations['int_trading_sessions_expanded']) -%}
    {{ return(minute_cutoff_as_date(literal)) }}
{%- endmacro %}

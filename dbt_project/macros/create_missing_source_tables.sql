{#- The raw-schema contract as tables: every source table whose columns declare a `data_type`
    (the sources YAML) is created empty when the loader has not written it yet, and a declared
    column the table lacks is added (null in the rows already there). A warehouse that holds
    only Yahoo's daily bars (no broker files, no minute bars yet) then builds with empty
    portfolio and minute marts instead of failing on tables that do not exist.

    Why tables and not a conditional in every staging model: one hook keeps the staging views,
    the source tests and the lineage exactly as they are, and an empty table is the truth
    ("nothing loaded yet"). dlt loads into such a table as into its own: it compares its schema
    with the columns it finds, adds its own (`_dlt_id`, ...) and inserts by name. The types are
    the ones dlt creates, so the first load changes nothing but the rows.

    A table whose columns declare no type at all is left alone (dbt_audit.run_results has its
    own hook); a table that declares some types but not all is a mistake in the contract and
    stops the run. -#}
{% macro create_missing_source_tables() %}
    {%- if not execute -%}
        select 1
    {%- else -%}
        {%- set statements = [] -%}
        {%- for source in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- set columns = source.columns.values() | list -%}
            {%- set typed = columns | selectattr('data_type') | list -%}
            {%- if typed | length > 0 -%}
                {%- if typed | length < columns | length -%}
                    {%- set untyped = columns | rejectattr('data_type') | map(attribute='name') | join(', ') -%}
                    {{ exceptions.raise_compiler_error(
                        source.source_name ~ '.' ~ source.name ~ ' declares data_type for some columns but not for: '
                        ~ untyped ~ ' (declare all of them, or none)'
                    ) }}
                {%- endif -%}
                {%- set relation = adapter.get_relation(
                    database=source.database, schema=source.schema, identifier=source.identifier
                ) -%}
                {%- if relation is none -%}
                    {%- do log('creating the missing source table ' ~ source.schema ~ '.' ~ source.identifier ~ ' empty', info=true) -%}
                    {%- do statements.append('create schema if not exists ' ~ adapter.quote(source.schema)) -%}
                    {%- set column_definitions = [] -%}
                    {%- for column in columns -%}
                        {%- do column_definitions.append(adapter.quote(column.name) ~ ' ' ~ column.data_type) -%}
                    {%- endfor -%}
                    {%- do statements.append(
                        'create table if not exists ' ~ adapter.quote(source.schema) ~ '.' ~ adapter.quote(source.identifier)
                        ~ ' (' ~ column_definitions | join(', ') ~ ')'
                    ) -%}
                {%- else -%}
                    {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
                    {%- for column in columns if column.name | lower not in existing -%}
                        {%- do log('adding the missing column ' ~ column.name ~ ' to ' ~ relation, info=true) -%}
                        {%- do statements.append(
                            'alter table ' ~ relation ~ ' add column if not exists '
                            ~ adapter.quote(column.name) ~ ' ' ~ column.data_type
                        ) -%}
                    {%- endfor -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {#- Run here and committed: the column look-ups above opened a transaction on the hook's
            connection, and dbt rolls that back after the hooks. -#}
        {%- for statement in statements -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
        {%- if statements -%}
            {%- do adapter.commit() -%}
        {%- endif -%}
        select 1
    {%- endif -%}
{% endmacro %}

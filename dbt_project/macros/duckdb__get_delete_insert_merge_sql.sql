{#- Overrides dbt-duckdb 1.11's delete+insert for a composite key. Its version deletes with
    `using <new rows> where keys match`, a join of every new row to every old row of the same
    key: with a key such as (ticker, session_date) that is 390 x 390 pairs per session and
    made the incremental run slower than a full refresh. Deleting where the key is among the
    DISTINCT new keys is a semi-join of one row per key. Same statements otherwise. -#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {% if keys %}
        delete from {{ target }} as dbt_incremental_target
        where exists (
            select 1
            from (select distinct {{ keys | join(', ') }} from {{ source }}) as dbt_new_keys
            where
                {% for key in keys -%}
                    dbt_new_keys.{{ key }} = dbt_incremental_target.{{ key }}
                    {{ "and " if not loop.last }}
                {%- endfor %}
        )
        {%- for predicate in incremental_predicates or [] %}
            and {{ predicate }}
        {%- endfor %};
    {% endif %}

    insert into {{ target }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ source }}
    )
{%- endmacro %}

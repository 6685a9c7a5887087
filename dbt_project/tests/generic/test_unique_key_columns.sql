{% test unique_key_columns(model, columns) %}
{#- No two rows share the same values in `columns` (the key). Fails with one row per
    duplicated key and its count. The same check as dbt_utils' unique_combination_of_columns,
    named apart so the two never shadow each other. -#}
{%- set key = columns | join(', ') %}

select
    {{ key }},
    count(*) as n_rows
from {{ model }}
group by {{ key }}
having count(*) > 1

{% endtest %}

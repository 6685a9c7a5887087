{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- The project's own version of dbt_utils' test (no package hub offline). -#}
{%- set columns = combination_of_columns | join(', ') %}

select
    {{ columns }},
    count(*) as n_rows
from {{ model }}
group by {{ columns }}
having count(*) > 1

{% endtest %}

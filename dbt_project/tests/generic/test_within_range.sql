{% test within_range(model, column_name, min_value=none, max_value=none, min_inclusive=true, max_inclusive=true) %}
{#- Fails with every row whose value lies outside [min_value, max_value] (each end optional,
    each inclusive unless told otherwise). Nulls pass: "null until the window is full" is
    the not_null and null_until_window_full tests' business. Filter rows with dbt's own
    `config: where:`. Not dbt_utils' accepted_range (one `inclusive` for both ends): named
    apart so neither shadows the other. -#}
{%- if min_value is none and max_value is none %}
    {{ exceptions.raise_compiler_error("within_range on " ~ column_name ~ ": give min_value, max_value or both") }}
{%- endif %}

select *
from {{ model }}
where
    {{ column_name }} is not null
    and not (
        true
        {%- if min_value is not none %}
            and {{ column_name }} {{ '>=' if min_inclusive else '>' }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
            and {{ column_name }} {{ '<=' if max_inclusive else '<' }} {{ max_value }}
        {%- endif %}
    )

{% endtest %}

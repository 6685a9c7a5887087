{% test monotonic_within_group(model, column_name, group_by, order_by, strictly=false) %}
{#- Within each group, `column_name` never decreases along `order_by` (strictly increases with
    strictly=true). Returns the rows that break it with the previous value. -#}
with ordered as (
    select
        {{ group_by | join(', ') }},
        {{ order_by }} as order_value,
        {{ column_name }} as value,
        lag({{ column_name }}) over (
            partition by {{ group_by | join(', ') }} order by {{ order_by }}
        ) as previous_value
    from {{ model }}
)

select *
from ordered
where previous_value is not null and value {{ '<=' if strictly else '<' }} previous_value

{% endtest %}

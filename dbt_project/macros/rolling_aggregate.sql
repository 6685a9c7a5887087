{#- A rolling statistic that is never computed on a partial window: null until `sessions`
    rows of the partition, this one included, have a value. -#}
{% macro rolling_aggregate(aggregate, expression, sessions, partition_by='ticker', order_by='trade_date') -%}
    {%- set frame -%}
        partition by {{ partition_by }} order by {{ order_by }}
        rows between {{ sessions - 1 }} preceding and current row
    {%- endset -%}
    case
        when count({{ expression }}) over ({{ frame }}) = {{ sessions }}
            then {{ aggregate }}({{ expression }}) over ({{ frame }})
    end
{%- endmacro %}

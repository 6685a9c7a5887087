{% test null_until_window_full(model, column_name, sessions, partition_by='ticker', order_by='trade_date') %}
{#- A rolling feature over `sessions` rows is null on the first `sessions - 1` rows of each
    partition and has a value from row `sessions` on. Fails with the rows that break either
    half, and says which. -#}

with numbered as (
    select
        {{ partition_by }},
        {{ order_by }},
        {{ column_name }} as feature_value,
        row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as row_in_partition
    from {{ model }}
)

select
    *,
    case
        when row_in_partition < {{ sessions }} then 'value before the window is full'
        else 'null after the window is full'
    end as failure
from numbered
where
    (row_in_partition < {{ sessions }} and feature_value is not null)
    or (row_in_partition >= {{ sessions }} and feature_value is null)

{% endtest %}

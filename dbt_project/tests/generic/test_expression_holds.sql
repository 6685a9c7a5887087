{% test expression_holds(model, expression, column_name=none) %}
{#- Every row satisfies `expression` (a SQL boolean over the model's columns). A null result
    fails like false: a rule that cannot be evaluated is not a rule that holds. Restrict the
    rows with the test's `where` config. Returns the offending rows. Unlike dbt_utils'
    expression_is_true, where a null passes: hence its own name. -#}
select *
from {{ model }}
where ({{ expression }}) is not true

{% endtest %}

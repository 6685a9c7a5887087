{% test expression_is_true(model, expression, column_name=none) %}
{#- Every row satisfies `expression` (a SQL boolean over the model's columns). A null result
    fails like false: a rule that cannot be evaluated is not a rule that holds. Restrict the
    rows with the test's `where` config. Returns the offending rows. -#}
select *
from {{ model }}
where ({{ expression }}) is not true

{% endtest %}

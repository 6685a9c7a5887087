{#- The filter that scopes a data test of `relation` to the rows its minute model rewrites in
    this run, or none (every row). var minute_test_scopes says which relations have one:
    identifier -> [column, rewriting model] (+ 'before' for a relation tested before that
    model runs: see minute_tests_first_session). -#}
{% macro minute_test_scope(relation) -%}
    {%- set scope = var('minute_test_scopes', {}).get(relation.identifier) if relation.identifier is defined else none -%}
    {{ return(minute_rewrite_filter(scope[0], scope[1], scope | length > 2 and scope[2] == 'before') if scope else none) }}
{%- endmacro %}

{% test rows_reconcile_with_raw(model, grain, clean, rejected, clean_where=none, rejected_where=none, raw_where=none, raw_grain=none, clean_grain=none, rejected_grain=none, scope_column=none, scope_model=none) %}
{#- Nothing is silently dropped or invented: per `grain`, the raw rows of `model` (a source)
    equal the clean rows of `clean` plus the rejected rows of `rejected`, each side filtered
    by its optional `*_where` (`raw_where`: the raw rows this reconciliation is about, when
    one raw table feeds two kinds of models). `grain` names the output columns; `raw_grain`, `clean_grain`
    and `rejected_grain` give each side's expressions for them (default: the same names), e.g.
    a day computed from an instant. Keys found on any side are compared, so a clean or
    rejected row with no raw row fails too. Returns the keys whose counts disagree.
    `scope_column`, `scope_model`: in a daily build whose raw side is scoped to what
    `scope_model` rewrote (var minute_test_scopes: an instant column, from 00:00 UTC of a day),
    the clean and rejected sides keep the rows whose instant `scope_column` lies in the same
    range (minute_rewrite_filter), so the three sides cover the same whole UTC days. -#}
{%- set side_scope = minute_rewrite_filter(scope_column, scope_model) if scope_column else none %}
{%- set sides = [
    ('raw_rows', 'n_raw', model, raw_grain or grain, '(' ~ raw_where ~ ')' if raw_where else none),
    ('clean_rows', 'n_clean', clean, clean_grain or grain, ['(' ~ clean_where ~ ')' if clean_where, side_scope] | select | join(' and ') or none),
    ('rejected_rows', 'n_rejected', rejected, rejected_grain or grain, ['(' ~ rejected_where ~ ')' if rejected_where, side_scope] | select | join(' and ') or none),
] %}
{%- for name, count_name, relation, expressions, where in sides %}
    {%- if expressions | length != grain | length %}
        {{ exceptions.raise_compiler_error("rows_reconcile_with_raw: " ~ name ~ " has " ~ expressions | length ~ " grain expressions for " ~ grain | length ~ " grain columns") }}
    {%- endif %}
{%- endfor %}

with
{%- for name, count_name, relation, expressions, where in sides %}
{{ name }} as (
    select
        {%- for expression in expressions %}
        {{ expression }} as {{ grain[loop.index0] }},
        {%- endfor %}
        count(*) as {{ count_name }}
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
    group by all
),
{%- endfor %}

all_keys as (
    select {{ grain | join(', ') }} from raw_rows
    union
    select {{ grain | join(', ') }} from clean_rows
    union
    select {{ grain | join(', ') }} from rejected_rows
),

counted as (
    select
        {%- for column in grain %}
        all_keys.{{ column }},
        {%- endfor %}
        coalesce(raw_rows.n_raw, 0) as n_raw,
        coalesce(clean_rows.n_clean, 0) as n_clean,
        coalesce(rejected_rows.n_rejected, 0) as n_rejected
    from all_keys
    {%- for name, count_name, relation, expressions, where in sides %}
    left join {{ name }}
        on
        {%- for column in grain %}
            {{ 'and ' if not loop.first }}all_keys.{{ column }} is not distinct from {{ name }}.{{ column }}
        {%- endfor %}
    {%- endfor %}
)

select *
from counted
where n_raw != n_clean + n_rejected

{% endtest %}

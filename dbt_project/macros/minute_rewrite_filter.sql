{#- `column` within what `model_name` rewrote in this run, or none (see
    minute_tests_first_session): a session_date column keeps the sessions from D0 on, an
    instant column the rows from 00:00 UTC of the day before D0 (as minute_cutoff_at: a
    superset of the rewrite, never less). Nulls of the column are kept, so a not_null test
    still sees them. -#}
{% macro minute_rewrite_filter(column, model_name, before=false) -%}
    {%- set first_session = minute_tests_first_session(model_name, before) -%}
    {%- if first_session is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if column == 'session_date' -%}
        {%- set floor = "date '" ~ first_session ~ "'" -%}
    {%- else -%}
        {%- set floor = minute_cutoff_at("date '" ~ first_session ~ "'") -%}
    {%- endif -%}
    {{ return("(" ~ column ~ " >= " ~ floor ~ " or " ~ column ~ " is null)") }}
{%- endmacro %}

{#- 00:00 UTC of the day before minute_cutoff_session_date() (D0): every session dated D0 or
    later opens after its local day begins, which is after this instant for any UTC offset up
    to +24 h, so reading minutes from here gives every rewritten session whole (Tokyo's
    session of D0 opens at 00:00 UTC of D0; New York's midnight would cut its morning).
    `session_date`: D0 already rendered (a date literal), to spare its query. A timestamptz
    literal; incremental runs only, as minute_cutoff_session_date. -#}
{% macro minute_cutoff_at(session_date=none) -%}
    {%- set session_date = session_date or minute_cutoff_session_date() -%}
    {%- set day_before = minute_cutoff_as_date(session_date) - modules.datetime.timedelta(days=1) -%}
    timestamptz '{{ day_before.isoformat() }} 00:00:00+00'
{%- endmacro %}

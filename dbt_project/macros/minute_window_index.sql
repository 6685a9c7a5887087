{#- Which `minutes`-long window after `open_at` the instant falls in (0 = the window starting
    at the open): elapsed microseconds divided as integers. Valid because no session spans a
    clock change (they happen at night or on weekends), so elapsed time = wall-clock minutes. -#}
{% macro minute_window_index(instant, open_at, minutes) -%}
    (epoch_us({{ instant }}) - epoch_us({{ open_at }})) // {{ minutes * 60000000 }}
{%- endmacro %}

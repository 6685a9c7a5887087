{#- True when `instant` is a whole minute. Exact for any instant: UTC offsets are whole
    minutes, so a whole minute in UTC is one in every time zone. -#}
{% macro is_on_minute_boundary(instant) -%}
    epoch_us({{ instant }}) % 60000000 = 0
{%- endmacro %}

{#- The UTC instant (timestamptz) of `us` microseconds since the epoch, whole seconds only:
    enough for the minute grid, which is built as integers and converted once per row. -#}
{% macro instant_from_epoch_us(us) -%}
    to_timestamp({{ us }} // 1000000)
{%- endmacro %}

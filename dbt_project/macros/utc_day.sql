{#- The UTC day of `instant` as a day number since 1970-01-01: integer arithmetic instead of
    a time-zone call per row; the join key of int_trading_sessions_expanded.utc_day. -#}
{% macro utc_day(instant) -%}
    epoch_us({{ instant }}) // 86400000000
{%- endmacro %}

{#- A decimal as a hugeint counted in units of 10^-18 (12.5 -> 12500000000000000000), exactly:
    the integer part and the fraction are scaled separately because the whole value times
    10^18 would overflow DuckDB's 38-digit decimals. The value may have at most 18 decimals
    and |value| < 1.7e20. -#}
{% macro decimal_units(value) -%}
    (
        cast(trunc({{ value }}) as hugeint) * 1000000000000000000
        + cast(({{ value }} - trunc({{ value }})) * 1000000000000000000 as hugeint)
    )
{%- endmacro %}

{#- numerator / denominator rounded half away from zero to `scale` decimals, in exact integer
    arithmetic. DuckDB divides decimals in double precision; money and share quantities must
    not pass through a float, so both operands become hugeints (decimal_units) and the quotient
    is an integer division. Null when the denominator is null or zero. A result too large for
    a hugeint raises an overflow error rather than rounding silently. -#}
{% macro divide_decimal(numerator, denominator, scale=4) -%}
    cast(
        cast(
            sign({{ numerator }}) * sign({{ denominator }})
            * (
                (2 * abs({{ decimal_units(numerator) }}) * {{ 10 ** scale }} + abs({{ decimal_units(denominator) }}))
                // nullif(2 * abs({{ decimal_units(denominator) }}), 0)
            ) as decimal(38, 0)
        ) * {{ '0.' ~ '0' * (scale - 1) ~ '1' }} as decimal(38, {{ scale }})
    )
{%- endmacro %}

{#- quantity x price as money: exact decimal product rounded to 4 decimals (the scale of the raw
    contract's amounts). Both operands are widened first because DuckDB keeps a product of two
    decimal(18, x) in 18 digits and overflows. A double price (market closes) is carried to 6
    decimals like a transaction price before it is multiplied. -#}
{% macro shares_value(quantity, price) -%}
    cast(
        round(cast({{ quantity }} as decimal(38, 6)) * cast({{ price }} as decimal(38, 6)), 4)
        as decimal(38, 4)
    )
{%- endmacro %}

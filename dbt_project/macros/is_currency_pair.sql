{#- True for a Yahoo currency pair's symbol (EURUSD=X, JPY=X): Yahoo names every pair with the
    suffix `=X` and no stock or fund with it (yfinance tells FX apart the same way). The one
    place the bars of the same raw table are split into equities and currency rates. -#}
{% macro is_currency_pair(symbol) -%}
    coalesce({{ symbol }} like '%=X', false)
{%- endmacro %}

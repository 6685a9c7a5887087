{#- The price and volume rules every bar must pass, as the `when ... then` branches of a
    reject_reason `case` (first broken rule wins): missing_price, non_positive_price,
    high_below_low, open_or_close_outside_range, negative_volume. Daily and minute bars use
    the same branches in this order (seed bar_reject_reasons gives each its precedence);
    each model puts its own rules before and after them. -#}
{% macro ohlc_reject_reason(open, high, low, close, volume) -%}
    when
        {{ open }} is null or {{ high }} is null or {{ low }} is null or {{ close }} is null
        then 'missing_price'
    when least({{ open }}, {{ high }}, {{ low }}, {{ close }}) <= 0 then 'non_positive_price'
    when {{ high }} < {{ low }} then 'high_below_low'
    when
        {{ open }} not between {{ low }} and {{ high }} or {{ close }} not between {{ low }} and {{ high }}
        then 'open_or_close_outside_range'
    when {{ volume }} < 0 then 'negative_volume'
{%- endmacro %}

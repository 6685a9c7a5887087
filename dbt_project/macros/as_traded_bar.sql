{#- Yahoo's split-adjusted open, high, low, close and volume of `bars` back as traded:
    prices times `factor` (the ratios of the splits between the bar's day and its
    adjusted_as_of; null = no split = 1), volume divided by it and rounded to whole shares.
    Emits the factor and the five columns, for a select list. -#}
{% macro as_traded_bar(bars, factor) -%}
    coalesce({{ factor }}, 1.0) as split_factor_since_trade,
        {{ bars }}.open * coalesce({{ factor }}, 1.0) as open,
        {{ bars }}.high * coalesce({{ factor }}, 1.0) as high,
        {{ bars }}.low * coalesce({{ factor }}, 1.0) as low,
        {{ bars }}.close * coalesce({{ factor }}, 1.0) as close,
        cast(round({{ bars }}.volume / coalesce({{ factor }}, 1.0)) as bigint) as volume
{%- endmacro %}

{#- How many of today's shares one share held at `instant` has become: the product of the
    market's split ratios of `ticker` whose ex-date session opens after `instant` (1 when none).
    Multiplying a quantity by it expresses the quantity in the ticker's latest share units, in
    which quantities bought and sold on either side of a split can be added and compared.
    The ratios are doubles in the market data; their product is carried to 6 decimals. -#}
{% macro split_factor_after(ticker, instant) -%}
    coalesce(
        (
            select cast(round(product(splits.split_ratio), 6) as decimal(38, 6))
            from {{ ref('int_splits_located') }} as splits
            where splits.ticker = {{ ticker }} and splits.split_at > {{ instant }}
        ),
        cast(1 as decimal(38, 6))
    )
{%- endmacro %}

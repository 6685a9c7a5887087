{#- The share of `total` that falls on the piece [piece_start, piece_end) of a whole that
    starts at `whole_start` and is `whole_size` long, rounded to `scale` decimals.
    It is computed as the difference of two rounded cumulative shares, not as a rounded share
    of the piece: the pieces of one whole then always add up to `total` to the last decimal
    (a lot of cost 31 for 3 shares sold 1 + 2 gives 10.3333 + 20.6667, never 10.3333 + 20.6666). -#}
{% macro allocate_pro_rata(total, piece_start, piece_end, whole_start, whole_size, scale=4) -%}
    (
        {{ divide_decimal(total ~ ' * (' ~ piece_end ~ ' - ' ~ whole_start ~ ')', whole_size, scale) }}
        - {{ divide_decimal(total ~ ' * (' ~ piece_start ~ ' - ' ~ whole_start ~ ')', whole_size, scale) }}
    )
{%- endmacro %}

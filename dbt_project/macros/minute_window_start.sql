{#- Start of window `window_index` of `minutes` minutes after `open_at`; evaluated once per
    window, after the group by, not per minute. -#}
{% macro minute_window_start(open_at, window_index, minutes) -%}
    {{ open_at }} + to_minutes({{ window_index }} * {{ minutes }})
{%- endmacro %}

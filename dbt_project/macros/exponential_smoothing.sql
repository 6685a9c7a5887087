{#- One step of a seeded exponential smoothing, for use inside a recursive CTE:
    null before `seed_session`, `seed` on it, then alpha * value + (1 - alpha) * previous.
    The exact recursion, not a finite-window approximation. -#}
{% macro exponential_smoothing(value, previous, alpha, seed, seed_session, session_number='session_number') -%}
    case
        when {{ session_number }} = {{ seed_session }} then {{ seed }}
        when {{ session_number }} > {{ seed_session }}
            then ({{ alpha }}) * {{ value }} + (1 - ({{ alpha }})) * {{ previous }}
    end
{%- endmacro %}

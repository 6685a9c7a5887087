{#- One finding of the checks across bars (int_bars_1d_checked) as the struct its `flags` list
    holds: null unless the boolean column is_<reason> is true, so list_filter drops it. One
    shape for every rule, which fct_flagged_bars unnests into its columns. -#}
{% macro bar_check_flag(reason, severity, measured_value, threshold, explanation) -%}
    case
        when is_{{ reason }}
            then {
                'flag_reason': '{{ reason }}',
                'severity': '{{ severity }}',
                'measured_value': cast({{ measured_value }} as double),
                'threshold': cast({{ threshold }} as double),
                'explanation': {{ explanation }}
            }
    end
{%- endmacro %}

{#- Layers get plain schema names (staging, intermediate, marts) on every target:
    the warehouse file itself separates dev from ci, so dbt's default
    <target_schema>_<custom> prefixing would only add noise for readers. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{#- The incremental set-up shared by the minute-level models: whole (ticker, session) groups
    are deleted and re-inserted for the sessions from incremental_session_cutoff() on, and
    `relation`'s rows are read from that cutoff only. Returns the select of those rows;
    the model keeps a `-- depends_on: {{ ref('dim_trading_sessions') }}` hint because the
    cutoff's ref sits inside a conditional. -#}
{% macro session_incremental(relation, date_column='session_date') %}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['ticker', date_column],
        on_schema_change='fail',
    ) }}
    select * from {{ relation }}
    {% if is_incremental() %}
        where {{ date_column }} >= {{ incremental_session_cutoff(date_column) }}
    {% endif %}
{% endmacro %}

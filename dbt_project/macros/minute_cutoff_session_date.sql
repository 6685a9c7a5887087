{#- D0, the first session an incremental minute-level run rewrites: the first of the
    `minute_lookback_sessions` (var, 3) latest `market_exchange` sessions up to the newest
    session_date already in {{ this }} (a model left behind by a failed run recomputes more,
    never less). Sessions before D0 are left as they are; --full-refresh recomputes all.
    Rendered as a literal (date 'YYYY-MM-DD'), from one query when the model runs: a literal
    lets DuckDB skip row groups of the scans it filters. For incremental runs only ({{ this }}
    must exist); while dbt parses the project it renders a placeholder. `relation`: another
    model's table instead of {{ this }} (the cutoff that model's next run will use), with
    `sessions`, int_trading_sessions_expanded's relation (a caller that cannot ref() it). -#}
{% macro minute_cutoff_session_date(relation=none, sessions=none) -%}
    {%- if not execute -%}
        date '1900-01-01'
    {%- else -%}
        {%- set cutoff_query -%}
            select coalesce(min(session_date), date '1900-01-01')
            from (
                select distinct session_date
                from {{ sessions or ref('int_trading_sessions_expanded') }}
                where
                    exchange = '{{ var("market_exchange") }}'
                    and session_date <= (select max(session_date) from {{ relation or this }})
                order by session_date desc
                limit {{ var('minute_lookback_sessions', 3) }}
            )
        {%- endset -%}
        date '{{ run_query(cutoff_query).columns[0].values()[0] }}'
    {%- endif -%}
{%- endmacro %}

{#- The date of a literal minute_cutoff_session_date() rendered (date 'YYYY-MM-DD'), for the
    macros that compute with it in Jinja. -#}
{% macro minute_cutoff_as_date(literal) -%}
    {{ return(modules.datetime.date.fromisoformat(literal.split("'")[1])) }}
{%- endmacro %}

{#- The first session date an incremental minute-level run recomputes: the
    `minute_lookback_sessions` latest sessions up to the newest day already in the model
    (var, default 3), so late corrections inside that window are picked up. Earlier days are
    left as they are; `dbt build --full-refresh` recomputes everything.
    `date_column` is the model's day column in {{ this }}. -#}
{% macro incremental_session_cutoff(date_column='session_date') %}
(
    select coalesce(min(session_date), date '1900-01-01')
    from (
        select session_date
        from {{ ref('dim_trading_sessions') }}
        where
            exchange = 'XNYS'
            and session_date <= (select max({{ date_column }}) from {{ this }})
        order by session_date desc
        limit {{ var('minute_lookback_sessions', 3) }}
    )
)
{% endmacro %}

{% test recent_within_sessions(model, column_name, max_sessions_behind=1, exchange=none) %}
{#- The newest `column_name` (a date) is at most `max_sessions_behind` sessions before the
    latest session of `exchange` (default: var market_exchange) that has closed by now.
    Returns one row when the data is older. Counts sessions, where dbt_utils' recency counts
    calendar intervals: hence its own name. -#}
{%- set exchange = exchange or var('market_exchange') %}
with latest_closed as (
    select max(session_date) as session_date
    from {{ ref('dim_trading_sessions') }}
    where exchange = '{{ exchange }}' and close_at <= now()
),

expected as (
    select min(session_date) as oldest_acceptable
    from (
        select session_date
        from {{ ref('dim_trading_sessions') }}
        where
            exchange = '{{ exchange }}'
            and session_date <= (select session_date from latest_closed)
        order by session_date desc
        limit {{ max_sessions_behind + 1 }}
    )
),

newest as (
    select max({{ column_name }}) as newest_date from {{ model }}
)

select
    newest.newest_date,
    expected.oldest_acceptable
from newest
cross join expected
where newest.newest_date is null or newest.newest_date < expected.oldest_acceptable

{% endtest %}

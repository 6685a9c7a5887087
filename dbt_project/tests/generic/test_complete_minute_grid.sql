{% test complete_minute_grid(model, sessions, timestamp_column='bar_at', session_column='session_date', exchange=none) %}
{#- Every ticker-session of `model` has exactly one row per minute from its first row to the
    session close: no gap inside a session, nothing past the close. Returns the offending
    ticker-sessions with the expected and actual minute counts. Sessions of `exchange`
    (default: var market_exchange). -#}
{%- set exchange = exchange or var('market_exchange') %}
with minutes as (
    select
        ticker,
        {{ session_column }} as session_date,
        min({{ timestamp_column }}) as first_minute_at,
        max({{ timestamp_column }}) as last_minute_at,
        count(*) as n_minutes
    from {{ model }}
    group by all
),

sessions as (
    select * from {{ sessions }}
)

select
    minutes.*,
    sessions.close_at,
    date_diff('minute', minutes.first_minute_at, sessions.close_at) as expected_minutes
from minutes
left join sessions
    on minutes.session_date = sessions.session_date and sessions.exchange = '{{ exchange }}'
where
    sessions.close_at is null
    or minutes.last_minute_at != sessions.close_at - interval 1 minute
    or minutes.n_minutes != date_diff('minute', minutes.first_minute_at, sessions.close_at)

{% endtest %}

-- One row per exchange session and UTC day it touches (one for every session of New York,
-- London or Tokyo; two for a session that spans midnight UTC), with its bounds as epoch
-- microseconds: the minute models find a bar's session by an equality join on (exchange,
-- utc_day) plus the range open_us <= bar < close_us, integer work instead of a time-zone
-- call per minute.
with generated_sessions as (
    select * from {{ ref('int_trading_sessions_generated') }}
),

typed as (
    select
        cast(exchange as varchar) as exchange,
        cast(session_date as date) as session_date,
        cast(open_at as timestamptz) as open_at,
        cast(close_at as timestamptz) as close_at
    from generated_sessions
),

final as (
    select
        exchange,
        session_date,
        open_at,
        close_at,
        epoch_us(open_at) as open_us,
        epoch_us(close_at) as close_us,
        unnest(
            range({{ utc_day('open_at') }}, (epoch_us(close_at) - 1) // 86400000000 + 1)
        ) as utc_day
    from typed
)

select * from final

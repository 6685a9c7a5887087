-- The generated sessions with their published types and length: the one session dimension
-- that intermediate models join (the portfolio's), published as dim_trading_sessions.
with generated_sessions as (
    select * from {{ ref('int_trading_sessions_generated') }}
),

final as (
    select
        cast(exchange as varchar) as exchange,
        cast(session_date as date) as session_date,
        cast(open_at as timestamptz) as open_at,
        cast(close_at as timestamptz) as close_at,
        cast(date_diff('minute', open_at, close_at) as integer) as session_minutes,
        cast(is_early_close as boolean) as is_early_close
    from generated_sessions
)

select * from final

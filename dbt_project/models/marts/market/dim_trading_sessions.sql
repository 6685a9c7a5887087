-- The session dimension as published: the columns of int_trading_sessions_typed.
with typed_sessions as (
    select * from {{ ref('int_trading_sessions_typed') }}
),

final as (
    select
        exchange,
        session_date,
        open_at,
        close_at,
        session_minutes,
        is_early_close
    from typed_sessions
)

select * from final

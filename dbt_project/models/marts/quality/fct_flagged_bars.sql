-- Daily bars the checks across bars flag but keep (int_bars_1d_checked), one row per bar and
-- flag, and the exchange sessions a ticker has no bar for (int_trading_sessions_missed).
-- Rejected bars are not here: they are in fct_quarantined_bars. Rules: docs/quality.md.
with checked_bars as (
    select * from {{ ref('int_bars_1d_checked') }}
    where reject_reason is null and len(flags) > 0
),

missed_sessions as (
    select * from {{ ref('int_trading_sessions_missed') }}
),

unnested_flags as (
    select
        ticker,
        trade_date,
        close,
        load_id,
        unnest(flags) as flag
    from checked_bars
),

bar_flags as (
    select
        unnested_flags.ticker,
        unnested_flags.trade_date,
        unnested_flags.flag.flag_reason,
        unnested_flags.flag.severity,
        unnested_flags.flag.measured_value,
        unnested_flags.flag.threshold,
        unnested_flags.flag.explanation,
        true as has_bar,
        unnested_flags.close,
        unnested_flags.load_id
    from unnested_flags
),

session_flags as (
    select
        ticker,
        trade_date,
        'missing_session' as flag_reason,
        'warn' as severity,
        cast(missed_sessions_in_gap as double) as measured_value,
        cast(null as double) as threshold,
        'no bar for this ' || calendar_exchange || ' session (a gap of ' || missed_sessions_in_gap
        || ' sessions)' as explanation,
        false as has_bar,
        cast(null as double) as close,
        cast(null as varchar) as load_id
    from missed_sessions
),

-- Both branches list the mart's columns in the contract's order.
final as (
    select * from bar_flags
    union all
    select * from session_flags
)

select * from final

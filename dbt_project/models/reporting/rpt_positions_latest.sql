-- Open positions of each account at the latest session. Money as double: the browser only
-- displays it.
with positions as (
    select * from {{ ref('fct_positions_daily') }}
),

latest_session as (
    select max(session_date) as session_date from positions
),

final as (
    select
        positions.account_id,
        positions.ticker,
        positions.session_date,
        cast(positions.quantity as double) as quantity,
        cast(positions.average_cost as double) as average_cost,
        positions.close,
        positions.is_close_carried_forward,
        cast(positions.cost_basis as double) as cost_basis,
        cast(positions.market_value as double) as market_value,
        cast(positions.unrealized_pnl as double) as unrealized_pnl,
        cast(positions.realized_pnl_to_date as double) as realized_pnl_to_date,
        cast(positions.dividend_income_to_date as double) as dividend_income_to_date,
        positions.weight
    from positions
    inner join latest_session
        on positions.session_date = latest_session.session_date
    where positions.quantity > 0
)

select * from final

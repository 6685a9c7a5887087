-- The open lots of an account and ticker add up to its position at the latest session: the
-- shares (to 1e-6 per lot, as each lot's shares are rounded to 6 decimals) and the cost
-- basis exactly. Fails with the positions that differ.
with lots as (
    select * from {{ ref('fct_lots_open') }}
),

all_positions as (
    select * from {{ ref('fct_positions_daily') }}
),

latest_session as (
    select max(session_date) as session_date
    from all_positions
),

positions as (
    select all_positions.*
    from all_positions
    inner join latest_session
        on all_positions.session_date = latest_session.session_date
),

lot_totals as (
    select
        account_id,
        ticker,
        count(*) as lots,
        sum(shares_held) as shares_held,
        sum(cost) as cost_basis
    from lots
    group by account_id, ticker
),

final as (
    select
        positions.account_id,
        positions.ticker,
        positions.quantity,
        lot_totals.shares_held,
        positions.cost_basis,
        lot_totals.cost_basis as lots_cost_basis
    from positions
    full outer join lot_totals
        on
            positions.account_id = lot_totals.account_id
            and positions.ticker = lot_totals.ticker
    where
        abs(coalesce(positions.quantity, 0) - coalesce(lot_totals.shares_held, 0))
        > 0.000001 * coalesce(lot_totals.lots, 1)
        or coalesce(positions.cost_basis, 0) != coalesce(lot_totals.cost_basis, 0)
)

select * from final

-- Accepted brokerage transactions: the only input of the lots, positions and portfolio marts.
-- The rows rejected by int_transactions_validated are in fct_quarantined_transactions.
with validated_transactions as (
    select * from {{ ref('int_transactions_validated') }}
    where reject_reason is null
),

final as (
    select
        transaction_id,
        account_id,
        executed_at,
        session_date,
        ticker,
        action,
        quantity,
        price,
        fees,
        currency,
        cash_amount
    from validated_transactions
)

select * from final

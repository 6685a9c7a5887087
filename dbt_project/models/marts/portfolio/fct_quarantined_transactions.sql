-- Every brokerage transaction kept out of fct_transactions, as the broker reported it, with
-- the first rule it breaks. Raw rows = accepted + quarantined (tested per transaction id).
with validated_transactions as (
    select * from {{ ref('int_transactions_validated') }}
    where reject_reason is not null
),

final as (
    select
        transaction_id,
        account_id,
        executed_at,
        ticker,
        action,
        quantity,
        price,
        fees,
        reported_amount,
        currency,
        reject_reason,
        load_id
    from validated_transactions
)

select * from final

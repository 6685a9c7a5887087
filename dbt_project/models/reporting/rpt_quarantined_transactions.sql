-- Brokerage rows kept out of the marts, as reported, with the rule they break; execution
-- time in the market's wall time (var market_timezone, New York).
with rejected as (
    select * from {{ ref('fct_quarantined_transactions') }}
),

final as (
    select
        transaction_id,
        account_id,
        timezone('{{ var("market_timezone") }}', executed_at) as executed_at_ny,
        ticker,
        action,
        cast(quantity as double) as quantity,
        cast(price as double) as price,
        cast(fees as double) as fees,
        cast(reported_amount as double) as reported_amount,
        currency,
        reject_reason
    from rejected
)

select * from final

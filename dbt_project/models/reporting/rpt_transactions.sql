-- Accepted brokerage transactions; execution time in the market's wall time (var
-- market_timezone, New York). Money as double: the browser only displays it.
with transactions as (
    select * from {{ ref('fct_transactions') }}
),

final as (
    select
        transaction_id,
        account_id,
        timezone('{{ var("market_timezone") }}', executed_at) as executed_at_ny,
        session_date,
        ticker,
        action,
        cast(quantity as double) as quantity,
        cast(price as double) as price,
        cast(fees as double) as fees,
        currency,
        cast(cash_amount as double) as cash_amount
    from transactions
)

select * from final

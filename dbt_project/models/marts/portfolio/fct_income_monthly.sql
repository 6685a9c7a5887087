-- Income per account, security and calendar month: dividends (gross), the tax withheld on
-- them, and interest, with the net that reached the account's cash. A month is the month of
-- the session the row counts in (session_date, New York), so it does not depend on any
-- machine's time zone. Interest without a security has a null ticker.
with transactions as (
    select * from {{ ref('fct_transactions') }}
    where action in ('dividend', 'withholding_tax', 'interest')
),

monthly as (
    select
        account_id,
        ticker,
        cast(date_trunc('month', session_date) as date) as income_month,
        currency,
        coalesce(sum(cash_amount) filter (where action = 'dividend'), 0) as dividends_gross,
        coalesce(sum(cash_amount) filter (where action = 'withholding_tax'), 0) as withholding_tax,
        coalesce(sum(cash_amount) filter (where action = 'interest'), 0) as interest,
        sum(cash_amount) as net_income,
        count(*) as transaction_count
    from transactions
    group by account_id, ticker, cast(date_trunc('month', session_date) as date), currency
),

final as (
    select
        account_id,
        ticker,
        income_month,
        cast(year(income_month) as integer) as income_year,
        currency,
        cast(dividends_gross as decimal(18, 4)) as dividends_gross,
        cast(withholding_tax as decimal(18, 4)) as withholding_tax,
        cast(interest as decimal(18, 4)) as interest,
        cast(net_income as decimal(18, 4)) as net_income,
        cast(transaction_count as integer) as transaction_count
    from monthly
)

select * from final

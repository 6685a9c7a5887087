-- Retired rows (missing from a re-sent export, or retired by `ingest brokerage-retire`) stay
-- in raw with their lineage and reason; the warehouse reads only the live ones.
with source as (
    select * from {{ source('brokerage', 'transactions') }}
    where retired_at is null
),

renamed as (
    select
        transaction_id,
        account_id,
        executed_at,
        upper(ticker) as ticker,
        lower(trim(action)) as action,
        quantity,
        price,
        coalesce(fees, 0) as fees,
        amount as reported_amount,
        upper(currency) as currency,
        -- Lineage and parse problems recorded by the loader (ingest/brokerage/records.py).
        source_file,
        source_line,
        unparsed_values,
        coalesce(conflicting_versions, 0) as conflicting_versions,
        to_timestamp(cast(_dlt_load_id as double)) as loaded_at,
        _dlt_load_id as load_id
    from source
)

select * from renamed

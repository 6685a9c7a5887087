with source as (
    select * from {{ source('brokerage', 'accounts') }}
),

renamed as (
    select
        account_id,
        account_name,
        upper(base_currency) as base_currency,
        opened_at,
        to_timestamp(cast(_dlt_load_id as double)) as loaded_at
    from source
)

select * from renamed

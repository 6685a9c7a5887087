-- Nothing is silently dropped: per transaction id, raw rows = accepted (fct_transactions)
-- + quarantined (fct_quarantined_transactions). Returns the ids where the counts disagree.
with raw_rows as (
    select
        transaction_id,
        count(*) as n_raw
    from {{ source('brokerage', 'transactions') }}
    group by transaction_id
),

accepted_rows as (
    select
        transaction_id,
        count(*) as n_accepted
    from {{ ref('fct_transactions') }}
    group by transaction_id
),

quarantined_rows as (
    select
        transaction_id,
        count(*) as n_quarantined
    from {{ ref('fct_quarantined_transactions') }}
    group by transaction_id
),

all_ids as (
    select transaction_id from raw_rows
    union
    select transaction_id from accepted_rows
    union
    select transaction_id from quarantined_rows
)

select
    all_ids.transaction_id,
    coalesce(raw_rows.n_raw, 0) as n_raw,
    coalesce(accepted_rows.n_accepted, 0) as n_accepted,
    coalesce(quarantined_rows.n_quarantined, 0) as n_quarantined
from all_ids
left join raw_rows
    on all_ids.transaction_id = raw_rows.transaction_id
left join accepted_rows
    on all_ids.transaction_id = accepted_rows.transaction_id
left join quarantined_rows
    on all_ids.transaction_id = quarantined_rows.transaction_id
where coalesce(raw_rows.n_raw, 0) != coalesce(accepted_rows.n_accepted, 0) + coalesce(quarantined_rows.n_quarantined, 0)

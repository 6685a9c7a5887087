-- The words the pages show for the marts' codes (quarantined bars and transactions, anomaly
-- flags, intraday alerts), and for anomaly scores and alert values their unit, so that no
-- page shows a raw code or a score without its meaning. One home per list: the reject
-- reasons' seeds (whose codes the quarantine models are tested against) and
-- anomaly_and_alert_labels. A code missing here is shown with its underscores as spaces.
with bar_reasons as (
    select * from {{ ref('bar_reject_reasons') }}
),

transaction_reasons as (
    select * from {{ ref('transaction_reject_reasons') }}
),

anomaly_and_alert_labels as (
    select * from {{ ref('anomaly_and_alert_labels') }}
),

final as (
    select
        'bar' as kind,
        reason as code,
        label,
        cast(null as varchar) as score_unit
    from bar_reasons
    union all
    select
        'transaction' as kind,
        reason as code,
        label,
        cast(null as varchar) as score_unit
    from transaction_reasons
    union all
    select
        kind,
        code,
        label,
        score_unit
    from anomaly_and_alert_labels
)

-- Sorted: the reports build streams each source (@duckdb/node-api 1.4.4), and the unsorted
-- union's stream ended after its first two branches (chunks of 11 and 25 rows, then empty ones):
-- the anomaly and alert labels never reached the pages. A sorted result is whole.
select * from final
order by kind, code

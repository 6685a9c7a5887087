-- The daily FX rates as published: the columns of int_fx_rates_carried, where its logic lives
-- (built in intermediate so the portfolio's intermediate models read it without a mart).
with carried_rates as (
    select * from {{ ref('int_fx_rates_carried') }}
),

final as (
    select
        currency,
        session_date,
        reporting_currency,
        rate_to_reporting,
        rate_date,
        pair_symbol,
        conversion_route,
        rate_age_days,
        is_rate_stale
    from carried_rates
)

select * from final

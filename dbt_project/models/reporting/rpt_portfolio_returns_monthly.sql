-- The return grid: each account's time-weighted return per calendar month beside the
-- benchmark's over the same sessions.
with monthly as (
    select * from {{ ref('fct_portfolio_returns_monthly') }}
),

final as (
    select
        account_id,
        return_year,
        return_month,
        start_date,
        end_date,
        sessions,
        time_weighted_return,
        benchmark_return,
        excess_return
    from monthly
)

select * from final

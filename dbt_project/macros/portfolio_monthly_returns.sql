{#- The return grid of `relation` (a daily portfolio mart with session_date, daily_return and
    spy_daily_return) per `key` and calendar month of the session: the time-weighted return
    chained from the daily returns, the benchmark's over the same sessions, and the
    difference. Ratios (0.01 = 1 %), double precision. -#}
{% macro portfolio_monthly_returns(relation, key) -%}
select
    {{ key }},
    cast(year(session_date) as integer) as return_year,
    cast(month(session_date) as integer) as return_month,
    min(session_date) as start_date,
    max(session_date) as end_date,
    cast(count(*) as integer) as sessions,
    product(1 + coalesce(daily_return, 0)) - 1 as time_weighted_return,
    product(1 + coalesce(spy_daily_return, 0)) - 1 as benchmark_return,
    (product(1 + coalesce(daily_return, 0)) - 1)
    - (product(1 + coalesce(spy_daily_return, 0)) - 1) as excess_return
from {{ relation }}
group by {{ key }}, year(session_date), month(session_date)
{%- endmacro %}

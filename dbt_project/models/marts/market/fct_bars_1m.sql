-- depends_on: {{ ref('dim_trading_sessions') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['ticker', 'session_date'],
        on_schema_change='fail',
    )
}}

with aligned_bars as (
    select * from {{ ref('int_bars_1m_aligned') }}
    {% if is_incremental() %}
        where session_date >= {{ incremental_session_cutoff() }}
    {% endif %}
),

final as (
    select
        ticker,
        session_date,
        bar_at,
        open,
        high,
        low,
        close,
        volume,
        is_filled
    from aligned_bars
)

select * from final

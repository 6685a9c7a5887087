-- Where the warehouse's data comes from, in one row: the layout shows a banner on every page
-- when any of it is the offline sample, so a synthetic close never reads as a real one. The
-- audit table knows: the sample generator's runs (pipelines sample_market and
-- sample_brokerage) are recorded with source 'sample', Yahoo Finance's as 'yahoo_finance'
-- (yfinance) or 'replay' (recorded Yahoo frames).
-- Always one row (an aggregate without group by), even before the first run.
with runs as (
    select * from {{ ref('fct_pipeline_runs') }}
),

prices as (
    select * from {{ ref('fct_prices_daily') }}
),

final as (
    select
        coalesce(bool_or(source = 'sample'), false) as has_sample_data,
        coalesce(bool_or(pipeline = 'sample_market'), false) as has_sample_market_data,
        coalesce(
            bool_or(pipeline in ('yfinance', 'yfinance_replay') and rows_written > 0),
            false
        ) as has_provider_market_data,
        coalesce(
            string_agg(distinct pipeline, ', ' order by pipeline) filter (where source = 'sample'),
            ''
        ) as sample_pipelines,
        -- As text: the "data as of" stamp; a date column with no value would be untyped.
        coalesce(left(cast((select max(prices.trade_date) from prices) as varchar), 10), '')
            as market_data_through
    from runs
)

select * from final

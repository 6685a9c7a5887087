-- Daily price features per ticker, computed on the adjusted close (high and low scaled by
-- the same factor, and named adj_high / adj_low: `close` is as traded and is never compared
-- with them), so a split or dividend never looks like a price move. Every feature is
-- null until its window is full: a short history never masquerades as a 20-session average.
-- Windows count the ticker's clean sessions (rows); a quarantined bar is skipped, not filled.
-- The recursive indicators (EMA, MACD, RSI, ATR) come from int_bars_1d_smoothed.
-- Formulas, units and conventions: _features__models.yml and docs/features.md.
-- Incremental (docs/features.md, "Daily runs"): the pre-hook deletes the whole history of a
-- ticker whose kept rows no longer hold (a new split or dividend changes every earlier
-- adjusted price; a restated bar; any rewrite of the benchmark, which every beta reads);
-- then each ticker's new sessions are computed from the lookback rows before them (every
-- window here is at most 252 rows), and the two running states, the maximum close and the
-- on-balance volume, continue from the rows kept.
{%- set benchmark_ticker = var('benchmark_ticker') %}
{%- set lookback_sessions = var('daily_features_lookback_sessions') %}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ daily_rewrite_delete(
            ['adj_close', 'adj_high', 'adj_low', 'close', 'volume'],
            whole_universe_follows=var('benchmark_ticker'),
        ) }}",
        on_schema_change='fail',
    )
}}

with adjusted as (
    select * from {{ ref('int_bars_1d_adjusted') }}
),
{% if is_incremental() %}
    kept as (
        select * from {{ this }}
    ),

    kept_ends as (
        select
            ticker,
            count(*) as kept_sessions,
            max(trade_date) as last_kept_date
        from kept
        group by ticker
    ),

    kept_states as (
        select
            kept_ends.ticker,
            kept_ends.kept_sessions,
            kept.obv as kept_obv
        from kept_ends
        inner join kept
            on
                kept_ends.ticker = kept.ticker
                and kept_ends.last_kept_date = kept.trade_date
    ),

    -- The highest close before the lookback rows: the running maximum continues from it.
    max_adj_close_before_lookback as (
        select
            adjusted.ticker,
            max(adjusted.adj_close) as max_adj_close_before_lookback
        from adjusted
        inner join kept_states
            on
                adjusted.ticker = kept_states.ticker
                and adjusted.session_number <= kept_states.kept_sessions - {{ lookback_sessions }}
        group by adjusted.ticker
    ),
{% endif %}

adjusted_bars as (
    select
        adjusted.*,
        {% if is_incremental() -%}
            coalesce(kept_states.kept_sessions, 0) as kept_sessions,
            coalesce(kept_states.kept_obv, 0) as kept_obv,
            max_adj_close_before_lookback.max_adj_close_before_lookback
        {%- else -%}
            0 as kept_sessions,
            0 as kept_obv,
            cast(null as double) as max_adj_close_before_lookback
        {%- endif %}
    from adjusted
    {%- if is_incremental() %}
        left join kept_states on adjusted.ticker = kept_states.ticker
        left join max_adj_close_before_lookback on adjusted.ticker = max_adj_close_before_lookback.ticker
    where
        adjusted.session_number > coalesce(kept_states.kept_sessions, 0) - {{ lookback_sessions }}
        -- The benchmark whole: a ticker rewritten from its first session pairs its returns
        -- with the benchmark's of the same days.
        or adjusted.ticker = '{{ benchmark_ticker }}'
    {%- endif %}
),

smoothed_indicators as (
    select * from {{ ref('int_bars_1d_smoothed') }}
),

sessions as (
    select
        ticker,
        trade_date,
        close,
        adj_close,
        adj_high,
        adj_low,
        volume,
        adj_volume,
        kept_sessions,
        kept_obv,
        max_adj_close_before_lookback,
        {% if is_incremental() -%}
            session_number,
        {%- else -%}
            row_number() over by_ticker as session_number,
        {%- endif %}
        lag(trade_date) over by_ticker as previous_trade_date,
        lag(adj_close) over by_ticker as previous_adj_close
    from adjusted_bars
    window by_ticker as (partition by ticker order by trade_date)
),

price_changes as (
    select
        *,
        adj_close / previous_adj_close - 1 as return_1d,
        ln(adj_close / previous_adj_close) as log_return_1d,
        -- The first session has no previous close: no volume direction yet.
        sign(adj_close - previous_adj_close) * adj_volume as signed_volume
    from sessions
),

rolling_windows as (
    select
        *,
        adj_close / lag(adj_close, 5) over by_ticker - 1 as return_5d,
        adj_close / lag(adj_close, 21) over by_ticker - 1 as return_21d,
        {{ rolling_aggregate('avg', 'adj_close', 5) }} as sma_5,
        {{ rolling_aggregate('avg', 'adj_close', 20) }} as sma_20,
        {{ rolling_aggregate('avg', 'adj_close', 50) }} as sma_50,
        {{ rolling_aggregate('avg', 'adj_close', 200) }} as sma_200,
        {{ rolling_aggregate('stddev_pop', 'adj_close', 20) }} as stddev_pop_adj_close_20,
        {{ rolling_aggregate('stddev_samp', 'log_return_1d', 20) }} as stddev_samp_log_return_20,
        adj_close - lag(adj_close, 10) over by_ticker as momentum_10,
        100 * (adj_close / lag(adj_close, 10) over by_ticker - 1) as roc_10,
        greatest(max(adj_close) over to_date, max_adj_close_before_lookback) as running_max_adj_close,
        {{ rolling_aggregate('max', 'adj_high', 252) }} as high_52w,
        {{ rolling_aggregate('min', 'adj_low', 252) }} as low_52w,
        {{ rolling_aggregate('avg', 'adj_volume', 20) }} as mean_volume_20,
        {{ rolling_aggregate('stddev_pop', 'adj_volume', 20) }} as stddev_pop_volume_20,
        -- Whole shares a day, so the sum is exact in any order and continues from the kept rows.
        cast(
            kept_obv + coalesce(
                sum(
                    case when session_number > kept_sessions then cast(round(signed_volume) as bigint) end
                ) over to_date,
                0
            ) as bigint
        ) as obv
    from price_changes
    window
        by_ticker as (partition by ticker order by trade_date),
        to_date as (
            partition by ticker order by trade_date
            rows between unbounded preceding and current row
        )
),

benchmark_returns as (
    select
        trade_date,
        previous_trade_date,
        return_1d as benchmark_return_1d
    from price_changes
    where ticker = '{{ benchmark_ticker }}'
),

-- A pair counts only when both returns span the same two sessions: the return after a
-- ticker's quarantined bar covers two sessions and is not set against a one-session return.
matched_returns as (
    select
        price_changes.ticker,
        price_changes.trade_date,
        price_changes.return_1d,
        benchmark_returns.benchmark_return_1d
    from price_changes
    inner join benchmark_returns
        on
            price_changes.trade_date = benchmark_returns.trade_date
            and price_changes.previous_trade_date = benchmark_returns.previous_trade_date
),

-- Beta = cov(r, r_benchmark) / var(r_benchmark) over the last 60 matched pairs, from window
-- sums: the benchmark's own beta is then exactly 1 (numerator and denominator are the same
-- sums), which DuckDB's windowed regr_slope does not guarantee (0.9999999999999998 seen).
benchmark_sums as (
    select
        ticker,
        trade_date,
        {{ rolling_aggregate('sum', 'return_1d * benchmark_return_1d', 60) }} as sum_cross_product_60,
        {{ rolling_aggregate('sum', 'return_1d', 60) }} as sum_return_60,
        {{ rolling_aggregate('sum', 'benchmark_return_1d', 60) }} as sum_benchmark_return_60,
        {{ rolling_aggregate('sum', 'benchmark_return_1d * benchmark_return_1d', 60) }}
            as sum_squared_benchmark_return_60
    from matched_returns
),

betas as (
    select
        ticker,
        trade_date,
        (sum_cross_product_60 - sum_return_60 * sum_benchmark_return_60 / 60)
        / nullif(sum_squared_benchmark_return_60 - sum_benchmark_return_60 * sum_benchmark_return_60 / 60, 0)
            as beta_60d
    from benchmark_sums
),

indicators as (
    select
        rolling_windows.*,
        rolling_windows.sma_20 + 2 * rolling_windows.stddev_pop_adj_close_20 as bb_upper_20,
        rolling_windows.sma_20 - 2 * rolling_windows.stddev_pop_adj_close_20 as bb_lower_20,
        smoothed_indicators.ema_12,
        smoothed_indicators.ema_26,
        smoothed_indicators.macd,
        smoothed_indicators.macd_signal,
        smoothed_indicators.macd_hist,
        smoothed_indicators.rsi_14,
        smoothed_indicators.atr_14,
        betas.beta_60d
    from rolling_windows
    left join smoothed_indicators
        on
            rolling_windows.ticker = smoothed_indicators.ticker
            and rolling_windows.trade_date = smoothed_indicators.trade_date
    left join betas
        on
            rolling_windows.ticker = betas.ticker
            and rolling_windows.trade_date = betas.trade_date
),

final as (
    select
        ticker,
        trade_date,
        close,
        adj_close,
        adj_high,
        adj_low,
        volume,
        return_1d,
        log_return_1d,
        return_5d,
        return_21d,
        sma_5,
        sma_20,
        sma_50,
        sma_200,
        ema_12,
        ema_26,
        macd,
        macd_signal,
        macd_hist,
        rsi_14,
        sma_20 as bb_middle_20,
        bb_upper_20,
        bb_lower_20,
        (adj_close - bb_lower_20) / nullif(bb_upper_20 - bb_lower_20, 0) as bb_pct_b_20,
        atr_14,
        stddev_samp_log_return_20 * sqrt(252) as volatility_20d,
        momentum_10,
        roc_10,
        adj_close / running_max_adj_close - 1 as drawdown,
        high_52w,
        low_52w,
        100 * (adj_close / high_52w - 1) as pct_from_high_52w,
        -- Null when the 20 volumes are equal (a deviation of float noise, < 1e-9 of the mean,
        -- counts as equal); clamped to its bound sqrt(19) against rounding at the edge (the
        -- case keeps a null a null: DuckDB's least/greatest skip nulls).
        case
            when stddev_pop_volume_20 > 1e-9 * abs(mean_volume_20)
                then greatest(
                    -sqrt(19),
                    least(sqrt(19), (adj_volume - mean_volume_20) / stddev_pop_volume_20)
                )
        end as volume_zscore_20,
        obv,
        beta_60d
    from indicators
    where session_number > kept_sessions
)

select * from final

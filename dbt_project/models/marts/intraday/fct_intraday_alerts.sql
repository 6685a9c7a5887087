-- What a trader watching the session is told, one row per ticker, minute and alert type:
-- the close crossing the session VWAP, a volume spike, a new session high or low, a large
-- move over 30 minutes, and RSI 14 of the 5-minute bars crossing 70 or 30.
-- Every rule reads the session up to its minute (and the daily bars before the session),
-- never later minutes, so the alerts of a replay's micro-batches are those of the batch
-- build after the close. Rules, thresholds (dbt vars) and why: docs/replay.md, "Alerts".
-- Incremental like the minute models: a run deletes the sessions from
-- minute_cutoff_session_date() on and rewrites them.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ minute_range_delete('session_date') }}",
        on_schema_change='fail',
    )
}}
-- depends_on: {{ ref('int_trading_sessions_expanded') }}
{%- set warmup = var('alert_warmup_minutes') %}
{%- set rsi_bars = var('alert_rsi_bars') %}

with minutes as (
    select * from {{ ref('int_bars_1m_aligned') }}
    {% if is_incremental() %}
        where session_date >= {{ minute_cutoff_session_date() }}
    {% endif %}
),

windows_5m as (
    select * from {{ ref('int_bars_5m_rolled_up') }}
    {% if is_incremental() %}
        where session_date >= {{ minute_cutoff_session_date() }}
    {% endif %}
),

daily_bars as (
    select * from {{ ref('int_bars_1d_adjusted') }}
),

-- The ticker's usual minute volume: its mean daily volume over the sessions before
-- (as traded, like the minutes), spread over a regular session's 390 minutes.
daily_volume_history as (
    select
        ticker,
        trade_date,
        avg(volume) over (
            partition by ticker order by trade_date
            rows between {{ var('alert_volume_history_sessions') - 1 }} preceding and current row
        ) as mean_daily_volume
    from daily_bars
),

ticker_sessions as (
    select distinct
        ticker,
        session_date
    from minutes
),

usual_volume as (
    select
        ticker_sessions.ticker,
        ticker_sessions.session_date,
        daily_volume_history.mean_daily_volume / 390.0 as usual_minute_volume
    from ticker_sessions
    asof left join daily_volume_history
        on
            ticker_sessions.ticker = daily_volume_history.ticker
            and ticker_sessions.session_date > daily_volume_history.trade_date
),

-- Per minute, what the session showed before it.
measured as (
    select
        minutes.ticker,
        minutes.session_date,
        minutes.bar_at,
        minutes.high,
        minutes.low,
        minutes.close,
        minutes.volume,
        minutes.is_filled,
        minutes.session_vwap,
        usual_volume.usual_minute_volume,
        {{ minute_window_index('minutes.bar_at', 'minutes.session_open_at', 1) }} as minutes_since_open,
        sign(minutes.close - minutes.session_vwap) as side_of_vwap,
        lag(sign(minutes.close - minutes.session_vwap)) over by_session as previous_side_of_vwap,
        avg(minutes.volume) filter (where not minutes.is_filled) over before_this as mean_volume_before,
        stddev_samp(minutes.volume) filter (where not minutes.is_filled) over before_this
            as stddev_volume_before,
        max(minutes.high) filter (where not minutes.is_filled) over before_this as high_before,
        min(minutes.low) filter (where not minutes.is_filled) over before_this as low_before,
        ln(minutes.close / lag(minutes.close, 30) over by_session) as log_return_30m,
        lag(minutes.volatility_30m, 30) over by_session as volatility_30m_before
    from minutes
    left join usual_volume
        on minutes.ticker = usual_volume.ticker and minutes.session_date = usual_volume.session_date
    window
        by_session as (partition by minutes.ticker, minutes.session_date order by minutes.bar_at),
        before_this as (by_session rows between unbounded preceding and 1 preceding)
),

traded as (
    select * from measured
    where not is_filled and minutes_since_open >= {{ warmup }}
),

vwap_crosses as (
    select
        ticker,
        session_date,
        bar_at,
        case when side_of_vwap > 0 then 'vwap_cross_up' else 'vwap_cross_down' end as alert_type,
        close as measured_value,
        session_vwap as threshold,
        'closed at ' || round(close, 4) || (case when side_of_vwap > 0 then ' above' else ' below' end)
        || ' the session VWAP ' || round(session_vwap, 4) || ', after a minute on the other side'
            as reason
    from traded
    where side_of_vwap != 0 and previous_side_of_vwap != 0 and side_of_vwap != previous_side_of_vwap
),

volume_spikes as (
    select
        ticker,
        session_date,
        bar_at,
        'volume_spike' as alert_type,
        cast(volume as double) as measured_value,
        mean_volume_before + {{ var('alert_volume_z') }} * stddev_volume_before as threshold,
        'traded ' || volume || ' shares, '
        || round((volume - mean_volume_before) / stddev_volume_before, 1)
        || ' standard deviations above the session''s minutes so far'
        || coalesce(
            ' and ' || round(volume / usual_minute_volume, 1) || 'x its usual minute', ''
        ) as reason
    from traded
    where
        stddev_volume_before > 0
        and (volume - mean_volume_before) / stddev_volume_before >= {{ var('alert_volume_z') }}
        and (
            usual_minute_volume is null
            or volume >= {{ var('alert_volume_history_multiple') }} * usual_minute_volume
        )
),

session_extremes as (
    select
        ticker,
        session_date,
        bar_at,
        'new_session_high' as alert_type,
        high as measured_value,
        high_before as threshold,
        'a new session high of ' || round(high, 4) || ', above ' || round(high_before, 4) as reason
    from traded
    where high > high_before

    union all

    select
        ticker,
        session_date,
        bar_at,
        'new_session_low' as alert_type,
        low as measured_value,
        low_before as threshold,
        'a new session low of ' || round(low, 4) || ', below ' || round(low_before, 4) as reason
    from traded
    where low < low_before
),

-- The last 30 minutes' move against the volatility of the 30 minutes before them.
large_moves as (
    select
        ticker,
        session_date,
        bar_at,
        case when log_return_30m > 0 then 'large_move_up' else 'large_move_down' end as alert_type,
        log_return_30m as measured_value,
        {{ var('alert_move_sigmas') }} * volatility_30m_before * sqrt(30) as threshold,
        'moved ' || round(100 * (exp(log_return_30m) - 1), 2) || ' % in 30 minutes, '
        || round(abs(log_return_30m) / (volatility_30m_before * sqrt(30)), 1)
        || ' standard deviations of the 30 minutes before' as reason
    from traded
    where
        volatility_30m_before > 0
        and abs(log_return_30m) > {{ var('alert_move_sigmas') }} * volatility_30m_before * sqrt(30)
),

-- RSI of the 5-minute closes within the session (simple averages of the last N changes:
-- Cutler's RSI, which needs no state from earlier bars), known when the window closes.
rsi_changes as (
    select
        ticker,
        session_date,
        window_end_at,
        close - lag(close) over by_session as close_change
    from windows_5m
    window by_session as (partition by ticker, session_date order by window_start_at)
),

rsi_averages as (
    select
        ticker,
        session_date,
        window_end_at,
        count(close_change) over last_n as changes,
        avg(greatest(close_change, 0)) over last_n as mean_gain,
        avg(greatest(-close_change, 0)) over last_n as mean_loss
    from rsi_changes
    window last_n as (
        partition by ticker, session_date order by window_end_at
        rows between {{ rsi_bars - 1 }} preceding and current row
    )
),

rsi_values as (
    select
        ticker,
        session_date,
        window_end_at,
        case
            when mean_loss = 0 and mean_gain = 0 then 50.0
            when mean_loss = 0 then 100.0
            else 100 - 100 / (1 + mean_gain / mean_loss)
        end as rsi
    from rsi_averages
    where changes = {{ rsi_bars }}
),

rsi_crosses as (
    select
        ticker,
        session_date,
        window_end_at - interval 1 minute as bar_at,
        case when rsi >= {{ var('alert_rsi_upper') }} then 'rsi_overbought' else 'rsi_oversold' end
            as alert_type,
        rsi as measured_value,
        case
            when rsi >= {{ var('alert_rsi_upper') }} then {{ var('alert_rsi_upper') }}
            else {{ var('alert_rsi_lower') }}
        end as threshold,
        'RSI {{ rsi_bars }} of the 5-minute bars at ' || round(rsi, 1) || ', crossing '
        || case
            when rsi >= {{ var('alert_rsi_upper') }} then '{{ var("alert_rsi_upper") }} upwards'
            else '{{ var("alert_rsi_lower") }} downwards'
        end as reason
    from (
        select
            *,
            lag(rsi) over (partition by ticker, session_date order by window_end_at) as previous_rsi
        from rsi_values
    ) as rsi_series
    where
        (previous_rsi < {{ var('alert_rsi_upper') }} and rsi >= {{ var('alert_rsi_upper') }})
        or (previous_rsi > {{ var('alert_rsi_lower') }} and rsi <= {{ var('alert_rsi_lower') }})
),

final as (
    select * from vwap_crosses
    union all
    select * from volume_spikes
    union all
    select * from session_extremes
    union all
    select * from large_moves
    union all
    select * from rsi_crosses
)

select * from final

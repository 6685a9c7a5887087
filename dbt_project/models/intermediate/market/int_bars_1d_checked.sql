-- Every clean daily bar (int_bars_1d_validated, reject_reason null) checked ACROSS bars: what
-- one bar cannot show alone (a 100x unit switch, a split the prices contradict, a dividend
-- out of line with the price or the ticker's other dividends, a run of repeated bars).
--   reject_reason  'unit_switch_100x' or null: a switched bar is wrong, so it leaves the marts
--                  (fct_quarantined_bars) like the bars validation rejects.
--   flags          the kept bar's findings, a list of {flag_reason, severity, measured_value,
--                  threshold, explanation}; flag_reasons lists their codes. Flagged bars stay.
-- Prices here are as traded; the checks compare them split-adjusted to today's shares
-- (divided by the ticker's later recorded splits), where consecutive bars are comparable.
-- Rules, thresholds (dbt vars) and severities: docs/quality.md.
{%- set unit_tolerance = var('unit_switch_ratio_tolerance') %}
{%- set split_window = var('split_window_sessions') %}
{%- set split_tolerance = var('split_ratio_tolerance') %}
{%- set like_tolerance = var('split_like_ratio_tolerance') %}
{%- set max_move = var('split_window_max_move') %}
{%- set minor_unit_currencies = "'" ~ var('minor_unit_currencies') | join("', '") ~ "'" %}

with validated_bars as (
    select * from {{ ref('int_bars_1d_validated') }}
),

-- Yahoo's own quote unit (GBp, not GBP): which side of a 100x switch is wrong depends on it.
tickers as (
    select * from {{ ref('stg_yfinance__tickers') }}
),

-- Every bar Yahoo sent (its latest version), clean or not: a split on a bar with a bad
-- price is still a split. splits_after = product of the later recorded split ratios.
recorded_bars as (
    select
        *,
        row_number() over by_ticker as session_number,
        coalesce(
            product(split_ratio) over (by_ticker rows between 1 following and unbounded following),
            1.0
        ) as splits_after
    from validated_bars
    where reject_reason is distinct from 'duplicate_superseded'
    window by_ticker as (partition by ticker order by trade_date)
),

recorded_splits as (
    select
        ticker,
        session_number,
        split_ratio,
        greatest(split_ratio, 1 / split_ratio) as split_size
    from recorded_bars
    -- a stock dividend of a few percent cannot be told from an ordinary move
    where greatest(split_ratio, 1 / split_ratio) >= 1.5
),

clean_bars as (
    select
        recorded_bars.* exclude (reject_reason),  -- noqa: RF02
        recorded_bars.close / recorded_bars.splits_after as split_adjusted_close,
        -- a dividend is per share held before its ex-date, so one going ex with a split is on
        -- the pre-split basis (int_bars_1d_validated): that day's split adjusts it too
        recorded_bars.dividend_per_share / (recorded_bars.splits_after * recorded_bars.split_ratio)
            as split_adjusted_dividend,
        tickers.currency
    from recorded_bars
    left join tickers
        on recorded_bars.ticker = tickers.ticker
    where recorded_bars.reject_reason is null
),

-- Unit switch: a close-to-close ratio of ~100 steps the unit level up, ~1/100 down.
unit_steps as (
    select
        *,
        split_adjusted_close / lag(split_adjusted_close) over by_ticker as close_ratio_to_previous,
        case
            when
                split_adjusted_close / lag(split_adjusted_close) over by_ticker
                between 100 / (1 + {{ unit_tolerance }}) and 100 * (1 + {{ unit_tolerance }})
                then 1
            when
                split_adjusted_close / lag(split_adjusted_close) over by_ticker
                between 1 / (100 * (1 + {{ unit_tolerance }})) and (1 + {{ unit_tolerance }}) / 100
                then -1
            else 0
        end as unit_step
    from clean_bars
    window by_ticker as (partition by ticker order by trade_date)
),

unit_levels as (
    select
        *,
        sum(unit_step) over (
            partition by ticker order by trade_date rows between unbounded preceding and current row
        ) as unit_level
    from unit_steps
),

-- Which side of a switch is wrong: a ticker quoted in a minor unit (GBp, ZAc, ILA) is wrong
-- where it is 100x too low (pounds, rand); any other is wrong where 100x too high (cents
-- reported as dollars). Without a known currency the latest bar's unit is taken as right.
unit_checked as (
    select
        *,
        case
            when
                unit_level != case
                    when currency in ({{ minor_unit_currencies }})
                        then max(unit_level) over by_ticker
                    when currency is not null then min(unit_level) over by_ticker
                    else arg_max(unit_level, trade_date) over by_ticker
                end
                then 'unit_switch_100x'
        end as reject_reason
    from unit_levels
    window by_ticker as (partition by ticker)
),

-- The checks of the kept bars compare each with the previous kept bar.
kept_bars as (
    select
        *,
        lag(split_adjusted_close) over by_ticker as previous_split_adjusted_close,
        lag(adj_close) over by_ticker as previous_adj_close,
        lag(adjusted_as_of) over by_ticker as previous_adjusted_as_of,
        lag(open) over by_ticker as previous_open,
        lag(high) over by_ticker as previous_high,
        lag(low) over by_ticker as previous_low,
        lag(close) over by_ticker as previous_close
    from unit_checked
    where reject_reason is null
    window by_ticker as (partition by ticker order by trade_date)
),

-- The one-day move on a total-return basis: close / (previous close - dividend), so a large
-- dividend (a return of capital) is not read as a split.
moves as (
    select
        *,
        split_adjusted_close / case
            when split_adjusted_dividend > 0 and split_adjusted_dividend < previous_split_adjusted_close
                then previous_split_adjusted_close - split_adjusted_dividend
            else previous_split_adjusted_close
        end as move_ratio
    from kept_bars
),

nearest_splits as (
    select
        moves.ticker,
        moves.trade_date,
        arg_min(
            recorded_splits.split_ratio,
            abs(recorded_splits.session_number - moves.session_number)
        ) as nearby_split_ratio,
        arg_min(
            recorded_splits.split_size,
            abs(recorded_splits.session_number - moves.session_number)
        ) as nearby_split_size
    from moves
    inner join recorded_splits
        on
            moves.ticker = recorded_splits.ticker
            and abs(recorded_splits.session_number - moves.session_number) <= {{ split_window }}
    group by moves.ticker, moves.trade_date
),

common_ratios as (
    select unnest(cast({{ var('split_common_ratios') }} as double[])) as common_ratio
),

split_like_moves as (
    select
        moves.ticker,
        moves.trade_date,
        min(abs(greatest(moves.move_ratio, 1 / moves.move_ratio) / common_ratios.common_ratio - 1))
            as distance_to_common_ratio,
        arg_min(
            common_ratios.common_ratio,
            abs(greatest(moves.move_ratio, 1 / moves.move_ratio) / common_ratios.common_ratio - 1)
        ) as nearest_common_ratio
    from moves
    cross join common_ratios
    -- an ordinary day is nowhere near 2:1; skipping it keeps the cross join small
    where greatest(moves.move_ratio, 1 / moves.move_ratio) >= 1.5
    group by moves.ticker, moves.trade_date
),

-- Dividends: against the previous close, the ticker's other dividends and each other.
dividends as (
    select
        ticker,
        trade_date,
        split_adjusted_dividend,
        count(*) over (partition by ticker) as ticker_dividend_count,
        median(split_adjusted_dividend) over (partition by ticker) as ticker_median_dividend,
        lag(split_adjusted_dividend) over by_ticker as previous_dividend,
        lag(trade_date) over by_ticker as previous_dividend_date,
        lead(split_adjusted_dividend) over by_ticker as next_dividend,
        lead(trade_date) over by_ticker as next_dividend_date
    from moves
    where split_adjusted_dividend > 0
    window by_ticker as (partition by ticker order by trade_date)
),

dividend_checks as (
    select
        ticker,
        trade_date,
        case
            when ticker_dividend_count >= {{ var('dividend_min_count_for_median') }}
                then split_adjusted_dividend / ticker_median_dividend
        end as dividend_ratio_to_median,
        least(
            case
                when previous_dividend_date >= trade_date - {{ var('dividend_repeat_window_days') }}
                    then abs(split_adjusted_dividend / previous_dividend - 1)
            end,
            case
                when next_dividend_date <= trade_date + {{ var('dividend_repeat_window_days') }}
                    then abs(split_adjusted_dividend / next_dividend - 1)
            end
        ) as distance_to_nearby_dividend
    from dividends
),

-- Stale: a bar repeating the previous bar's OHLC with no volume; runs as gaps-and-islands.
repeats as (
    select
        *,
        coalesce(volume, 0) = 0
        and open = previous_open
        and high = previous_high
        and low = previous_low
        and close = previous_close as is_repeat
    from moves
),

repeat_runs as (
    select
        *,
        count(*) filter (where not is_repeat) over (
            partition by ticker order by trade_date rows between unbounded preceding and current row
        ) as run_group
    from repeats
),

measured as (
    select
        repeat_runs.*,
        repeat_runs.split_adjusted_dividend / repeat_runs.previous_split_adjusted_close as dividend_yield,
        nearest_splits.nearby_split_ratio,
        nearest_splits.nearby_split_size,
        split_like_moves.distance_to_common_ratio,
        split_like_moves.nearest_common_ratio,
        dividend_checks.dividend_ratio_to_median,
        dividend_checks.distance_to_nearby_dividend,
        case
            when repeat_runs.is_repeat
                then count(*) filter (where repeat_runs.is_repeat) over (
                    partition by repeat_runs.ticker, repeat_runs.run_group
                )
        end as stale_run_sessions,
        -- Yahoo's adj_close / close moves by the event factor on an ex-date and nowhere else;
        -- only comparable between bars of the same request (same adjusted_as_of).
        case
            when
                repeat_runs.adjusted_as_of = repeat_runs.previous_adjusted_as_of
                and isfinite(repeat_runs.adj_close) and isfinite(repeat_runs.previous_adj_close)
                and repeat_runs.adj_close > 0 and repeat_runs.previous_adj_close > 0
                then
                    (repeat_runs.previous_adj_close / repeat_runs.previous_split_adjusted_close)
                    / (repeat_runs.adj_close / repeat_runs.split_adjusted_close)
        end as provider_event_factor,
        1 - coalesce(repeat_runs.split_adjusted_dividend, 0) / repeat_runs.previous_split_adjusted_close
            as expected_event_factor
    from repeat_runs
    left join nearest_splits
        on repeat_runs.ticker = nearest_splits.ticker and repeat_runs.trade_date = nearest_splits.trade_date
    left join split_like_moves
        on repeat_runs.ticker = split_like_moves.ticker and repeat_runs.trade_date = split_like_moves.trade_date
    left join dividend_checks
        on repeat_runs.ticker = dividend_checks.ticker and repeat_runs.trade_date = dividend_checks.trade_date
),

tested as (
    select
        *,
        (
            nearby_split_size is not null
            and greatest(move_ratio, 1 / move_ratio)
            >= least(nearby_split_size / (1 + {{ split_tolerance }}), {{ var('split_window_max_move') }})
        ) as is_split_not_in_prices,
        (
            nearby_split_size is null
            and distance_to_common_ratio <= {{ like_tolerance }}
        ) as is_split_like_jump_unrecorded,
        dividend_yield > {{ var('dividend_yield_max') }} as is_dividend_yield_implausible,
        dividend_ratio_to_median >= {{ var('dividend_unit_ratio_min') }} as is_dividend_unit_100x,
        (
            nearby_split_size is not null
            and dividend_ratio_to_median < {{ var('dividend_unit_ratio_min') }}
            and greatest(dividend_ratio_to_median, 1 / dividend_ratio_to_median) > sqrt(nearby_split_size)
        ) as is_dividend_not_split_adjusted,
        distance_to_nearby_dividend <= {{ var('dividend_repeat_tolerance') }} as is_dividend_repeated,
        (
            abs(provider_event_factor / expected_event_factor - 1)
            > {{ var('provider_adjustment_tolerance') }}
        ) as is_provider_adjustment_mismatch,
        stale_run_sessions >= {{ var('stale_run_min_sessions') }} as is_stale_bar
    from measured
),

-- The findings as structs, built only for the bars that have one.
flag_structs as (
    select
        ticker,
        trade_date,
        list_filter(
            [
                {{ bar_check_flag(
                    'split_not_in_prices', 'error', 'move_ratio',
                    'least(nearby_split_size / (1 + ' ~ split_tolerance ~ '), ' ~ max_move ~ ')',
                    "'a one-day move of ' || round(move_ratio, 4) || 'x within " ~ split_window
                    ~ " sessions of a recorded ' || nearby_split_ratio"
                    ~ " || ' split: the split is missing from the prices or applied on another day'",
                ) }},
                {{ bar_check_flag(
                    'split_like_jump_unrecorded', 'warn', 'move_ratio', like_tolerance,
                    "'a one-day move of ' || round(move_ratio, 4) || 'x, within '"
                    ~ " || round(100 * distance_to_common_ratio, 1) || ' % of a ' || nearest_common_ratio"
                    ~ " || ':1 split, and no split recorded within " ~ split_window ~ " sessions'",
                ) }},
                {{ bar_check_flag(
                    'dividend_yield_implausible', 'warn', 'dividend_yield', var('dividend_yield_max'),
                    "'a dividend of ' || round(100 * dividend_yield, 1) || ' % of the previous close'",
                ) }},
                {{ bar_check_flag(
                    'dividend_unit_100x', 'error', 'dividend_ratio_to_median', var('dividend_unit_ratio_min'),
                    "'a dividend ' || round(dividend_ratio_to_median, 1)"
                    ~ " || 'x the ticker''s median dividend: probably in cents, not units'",
                ) }},
                {{ bar_check_flag(
                    'dividend_not_split_adjusted', 'error', 'dividend_ratio_to_median', 'sqrt(nearby_split_size)',
                    "'a dividend ' || round(dividend_ratio_to_median, 2)"
                    ~ " || 'x the ticker''s median dividend next to a recorded ' || nearby_split_ratio"
                    ~ " || ' split: nearer the split ratio than 1, so not (or twice) split-adjusted'",
                ) }},
                {{ bar_check_flag(
                    'dividend_repeated', 'error', 'distance_to_nearby_dividend', var('dividend_repeat_tolerance'),
                    "'the same dividend (within ' || round(100 * distance_to_nearby_dividend, 1) || ' %) twice within "
                    ~ var('dividend_repeat_window_days') ~ " days: one of the two is a phantom'",
                ) }},
                {{ bar_check_flag(
                    'provider_adjustment_mismatch', 'warn', 'provider_event_factor',
                    var('provider_adjustment_tolerance'),
                    "'Yahoo''s adj_close moves by ' || round(provider_event_factor, 4)"
                    ~ " || ' here where 1 - dividend / previous close is ' || round(expected_event_factor, 4)"
                    ~ " || ' (its adjusted close is wrong; ours is computed from the actions)'",
                ) }},
                {{ bar_check_flag(
                    'stale_bar', 'warn', 'stale_run_sessions', var('stale_run_min_sessions'),
                    "'the previous bar repeated with no volume, in a run of ' || stale_run_sessions"
                    ~ " || ' such sessions: no trading, or no data'",
                ) }}
            ],
            lambda flag: flag is not null  -- noqa: RF01
        ) as flags
    from tested
    where
        is_split_not_in_prices
        or is_split_like_jump_unrecorded
        or is_dividend_yield_implausible
        or is_dividend_unit_100x
        or is_dividend_not_split_adjusted
        or is_dividend_repeated
        or is_provider_adjustment_mismatch
        or is_stale_bar
),

-- Kept bars with their flags, and the rejected ones (no flags: a wrong bar is not judged).
final as (
    select
        tested.ticker,
        tested.trade_date,
        tested.open,
        tested.high,
        tested.low,
        tested.close,
        tested.adj_close,
        tested.volume,
        tested.dividend_per_share,
        tested.split_ratio,
        tested.adjusted_as_of,
        tested.split_factor_since_trade,
        tested.loaded_at,
        tested.load_id,
        tested.split_adjusted_close,
        tested.close_ratio_to_previous,
        tested.unit_level,
        tested.reject_reason,
        coalesce(flag_structs.flags, []) as flags,
        coalesce(list_transform(flag_structs.flags, lambda flag: flag.flag_reason), []) as flag_reasons  -- noqa: RF01
    from tested
    left join flag_structs
        on tested.ticker = flag_structs.ticker and tested.trade_date = flag_structs.trade_date

    union all

    select
        ticker,
        trade_date,
        open,
        high,
        low,
        close,
        adj_close,
        volume,
        dividend_per_share,
        split_ratio,
        adjusted_as_of,
        split_factor_since_trade,
        loaded_at,
        load_id,
        split_adjusted_close,
        close_ratio_to_previous,
        unit_level,
        reject_reason,
        [] as flags,
        [] as flag_reasons
    from unit_checked
    where reject_reason is not null
)

select * from final

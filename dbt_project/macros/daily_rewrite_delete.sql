{#- The first step of an incremental daily-feature run, as the model's pre-hook: delete the
    whole history of every ticker whose kept rows no longer hold, so the model (append) then
    rewrites it from its first session; the other tickers keep their rows and gain the new ones.
    A ticker's kept rows no longer hold when, compared with int_bars_1d_adjusted as rebuilt:
    - one of `columns` differs beyond float noise (relative 1e-12) on a kept date: a new split
      or dividend changes the adjustment factor of every earlier bar, a restated bar its values;
    - a kept date has no clean bar any more (quarantined since), or a clean bar appeared on or
      before the last kept date (a backfill, a bar restated clean);
    - a bar after the last kept date carries a split or dividend (caught above too; said here).
    With `whole_universe_follows=ticker`, a rewrite of that ticker rewrites every ticker (the
    benchmark: every beta reads its returns). Nothing on a first or full-refresh build. -#}
{% macro daily_rewrite_delete(columns, whole_universe_follows=none) -%}
    {%- if is_incremental() -%}
        {%- set kept_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- for column in ['ticker', 'trade_date'] + columns if column not in kept_columns %}
            {{- exceptions.raise_compiler_error(
                this ~ ' was built by an earlier version (no column ' ~ column ~ '): rebuild it once with `dbt build --full-refresh --select ' ~ this.identifier ~ '+`'
            ) }}
        {%- endfor -%}
        delete from {{ this }}
        where ticker in (
            with adjusted as (
                select * from {{ ref('int_bars_1d_adjusted') }}
            ),

            kept as (
                select * from {{ this }}
            ),

            kept_ends as (
                select
                    ticker,
                    max(trade_date) as last_kept_date
                from kept
                group by ticker
            ),

            adjusted_up_to_kept_end as (
                select adjusted.*
                from adjusted
                inner join kept_ends
                    on
                        adjusted.ticker = kept_ends.ticker
                        and adjusted.trade_date <= kept_ends.last_kept_date
            ),

            changed_rows as (
                select coalesce(adjusted_up_to_kept_end.ticker, kept.ticker) as ticker
                from adjusted_up_to_kept_end
                full outer join kept
                    on
                        adjusted_up_to_kept_end.ticker = kept.ticker
                        and adjusted_up_to_kept_end.trade_date = kept.trade_date
                where
                    adjusted_up_to_kept_end.ticker is null
                    or kept.ticker is null
                    {%- for column in columns %}
                    or (
                        adjusted_up_to_kept_end.{{ column }} is distinct from kept.{{ column }}
                        and not coalesce(
                            abs(adjusted_up_to_kept_end.{{ column }} - kept.{{ column }})
                            <= 1e-12 * abs(kept.{{ column }}),
                            false
                        )
                    )
                    {%- endfor %}
            ),

            new_events as (
                select adjusted.ticker
                from adjusted
                inner join kept_ends
                    on
                        adjusted.ticker = kept_ends.ticker
                        and adjusted.trade_date > kept_ends.last_kept_date
                where adjusted.split_ratio != 1 or adjusted.dividend_per_share != 0
            ),

            changed_tickers as (
                select ticker from changed_rows
                union
                select ticker from new_events
            )

            select ticker from changed_tickers
            {%- if whole_universe_follows %}
            union
            select ticker from kept_ends
            where exists (select 1 from changed_tickers where ticker = '{{ whole_universe_follows }}')
            {%- endif %}
        )
    {%- endif -%}
{%- endmacro %}

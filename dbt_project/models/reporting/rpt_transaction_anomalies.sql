-- Accepted transactions flagged by the anomaly checks, one row per transaction and reason.
-- detail_text is the mart's detail as a reader wants it: decimals to two places with
-- thousands separators ("a median buy of 3,611.47", not 3611.4700000001), and its UTC times
-- in the market's wall time (var market_timezone, New York) like the page's other times (a
-- minute "20:03 UTC" is the execution minute, so it takes the execution's local clock).
{%- set utc_stamp = '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}' %}

with anomalies as (
    select * from {{ ref('fct_transaction_anomalies') }}
),

local_times as (
    select
        transaction_id,
        account_id,
        executed_at,
        timezone('{{ var("market_timezone") }}', executed_at) as executed_at_ny,
        ticker,
        action,
        anomaly_reason,
        score,
        related_transaction_id,
        detail
    from anomalies
),

times_in_new_york as (
    select
        *,
        -- Every "YYYY-MM-DD HH:MM" (UTC in the mart) replaced by its local wall time: the text
        -- between the stamps zipped with the stamps converted, and joined again.
        array_to_string(
            list_transform(
                list_zip(
                    regexp_split_to_array(detail, '{{ utc_stamp }}'),
                    list_transform(
                        regexp_extract_all(detail, '{{ utc_stamp }}'),
                        lambda stamp: strftime(
                            timezone('{{ var("market_timezone") }}', cast(stamp || ':00+00' as timestamptz)),
                            '%Y-%m-%d %H:%M'
                        )
                    )
                ),
                lambda piece: piece[1] || coalesce(piece[2], '')
            ),
            ''
        ) as detail_ny
    from local_times
),

minutes_in_new_york as (
    select
        *,
        regexp_replace(
            replace(
                detail_ny,
                coalesce(regexp_extract(detail_ny, 'minute [0-9]{2}:[0-9]{2} UTC', 0), '\x00'),
                'minute ' || strftime(executed_at_ny, '%H:%M') || ' New York'
            ),
            ' UTC',
            ' New York',
            'g'
        ) as detail_times
    from times_in_new_york
),

final as (
    select
        transaction_id,
        account_id,
        executed_at_ny,
        ticker,
        action,
        anomaly_reason,
        score,
        related_transaction_id,
        detail,
        array_to_string(
            list_transform(
                string_split(detail_times, ' '),
                lambda word: case
                    when regexp_full_match(word, '-?[0-9]+\.[0-9]+[,;:)]?')
                        then
                            format('{:,.2f}', cast(regexp_extract(word, '-?[0-9]+\.[0-9]+') as double))
                            || regexp_extract(word, '[,;:)]?$')
                    else word
                end
            ),
            ' '
        ) as detail_text
    from minutes_in_new_york
)

select * from final

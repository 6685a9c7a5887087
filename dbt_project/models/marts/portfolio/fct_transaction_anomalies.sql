-- Accepted transactions that look wrong, one row per transaction and reason, each with a
-- score (its meaning depends on the reason; higher = further from normal) and a detail that
-- states the evidence. Flagging never changes what the other marts compute.
-- Times in a detail are UTC whatever the machine's zone: strftime formats a timestamptz in
-- the session's TimeZone, so each one is first made a UTC wall time (timezone('UTC', ...)).
with transactions as (
    select * from {{ ref('int_transactions_validated') }}
    where reject_reason is null
),

prices as (
    select * from {{ ref('fct_prices_daily') }}
),

tickers as (
    select * from {{ ref('dim_tickers') }}
),

minute_bars as (
    select * from {{ ref('fct_bars_1m') }}
    where not is_filled
),

sessions as (
    select
        *,
        lag(close_at) over (order by session_date) as previous_close_at
    from {{ ref('dim_trading_sessions') }}
    where exchange = '{{ var("market_exchange") }}'
),

market_splits as (
    select * from {{ ref('int_splits_located') }}
),

trades as (
    select
        *,
        {{ shares_value('quantity', 'price') }} as trade_value
    from transactions
    where action in ('buy', 'sell')
),

-- Price against the session's low-high and, where the minute traded, the minute's. Only
-- regular-session trades: extended-hours prices may leave the regular range legitimately.
-- Half a cent of tolerance absorbs a broker's rounding to the cent. The market's prices are
-- stated in the major currency of the trade (a London range in pence becomes pounds).
price_ranges as (
    select
        trades.*,
        cast(trades.price as double) as trade_price,
        prices.low * tickers.price_to_major_unit as session_low,
        prices.high * tickers.price_to_major_unit as session_high,
        minute_bars.low * tickers.price_to_major_unit as minute_low,
        minute_bars.high * tickers.price_to_major_unit as minute_high
    from trades
    left join tickers
        on trades.ticker = tickers.ticker
    left join prices
        on trades.ticker = prices.ticker and trades.session_date = prices.trade_date
    left join minute_bars
        on trades.ticker = minute_bars.ticker and date_trunc('minute', trades.executed_at) = minute_bars.bar_at
    where trades.is_in_session
),

price_anomalies as (
    select
        transaction_id,
        case
            when trade_price not between session_low - 0.005 and session_high + 0.005
                then 'price_outside_session_range'
            else 'price_outside_minute_range'
        end as anomaly_reason,
        case
            when trade_price not between session_low - 0.005 and session_high + 0.005
                then greatest(trade_price / session_high - 1, 1 - trade_price / session_low)
            else greatest(trade_price / minute_high - 1, 1 - trade_price / minute_low)
        end as score,
        cast(null as varchar) as related_transaction_id,
        case
            when trade_price not between session_low - 0.005 and session_high + 0.005
                then format('price {} outside the session low-high {} - {}', price, session_low, session_high)
            else format(
                'price {} outside the low-high {} - {} of the minute {}',
                price, minute_low, minute_high, strftime(timezone('UTC', executed_at), '%H:%M UTC')
            )
        end as detail
    from price_ranges
    where
        trade_price not between session_low - 0.005 and session_high + 0.005
        or trade_price not between minute_low - 0.005 and minute_high + 0.005
),

-- Score: minutes to the nearest regular session (the previous close or the next open).
session_anomalies as (
    select
        trades.transaction_id,
        'outside_session' as anomaly_reason,
        cast(
            least(
                date_diff('second', trades.executed_at, sessions.open_at),
                date_diff('second', sessions.previous_close_at, trades.executed_at)
            ) as double
        ) / 60 as score,
        cast(null as varchar) as related_transaction_id,
        format(
            'executed at {} UTC, between the close {} and the open {}',
            strftime(timezone('UTC', trades.executed_at), '%Y-%m-%d %H:%M'),
            strftime(timezone('UTC', sessions.previous_close_at), '%Y-%m-%d %H:%M'),
            strftime(timezone('UTC', sessions.open_at), '%Y-%m-%d %H:%M')
        ) as detail
    from trades
    inner join sessions
        on trades.session_date = sessions.session_date
    where not trades.is_in_session
),

-- Robust z-score of the trade's size against the account's trades of the same side (a buy's
-- usual size is not a sell's), on the log of its value because sizes vary by multiples:
-- z = 0.6745 x (x - median) / MAD, flagged when |z| > 3.5 (Iglewicz and Hoaglin's outlier
-- threshold). Score: |z|.
sizes as (
    select
        transaction_id,
        action,
        trade_value,
        ln(cast(trade_value as double)) as log_value,
        median(ln(cast(trade_value as double))) over same_side as median_log_value,
        mad(ln(cast(trade_value as double))) over same_side as mad_log_value,
        median(cast(trade_value as double)) over same_side as median_value
    from trades
    where trade_value > 0
    window same_side as (partition by account_id, action)
),

size_anomalies as (
    select
        transaction_id,
        'unusual_size' as anomaly_reason,
        abs(0.6745 * (log_value - median_log_value) / mad_log_value) as score,
        cast(null as varchar) as related_transaction_id,
        format('{} of {} against a median {} of {:.2f} in the account', action, trade_value, action, median_value)
            as detail
    from sizes
    where mad_log_value > 0 and abs(0.6745 * (log_value - median_log_value) / mad_log_value) > 3.5
),

-- The same account, ticker, side, quantity and price within 15 minutes of an earlier trade:
-- the later one is flagged. Score: 1 - minutes apart / 15 (1 = the same instant).
duplicate_anomalies as (
    select
        later.transaction_id,
        'probable_duplicate' as anomaly_reason,
        1 - cast(date_diff('second', earlier.executed_at, later.executed_at) as double) / 900 as score,
        earlier.transaction_id as related_transaction_id,
        format(
            'same {} of {} {} at {} as {}, {} seconds earlier',
            later.action, later.quantity, later.ticker, later.price, earlier.transaction_id,
            date_diff('second', earlier.executed_at, later.executed_at)
        ) as detail
    from trades as later
    inner join trades as earlier
        on
            later.account_id = earlier.account_id
            and later.ticker = earlier.ticker
            and later.action = earlier.action
            and later.quantity = earlier.quantity
            and later.price = earlier.price
            and later.transaction_id != earlier.transaction_id
            and (earlier.executed_at, earlier.transaction_id) < (later.executed_at, later.transaction_id)
            and later.executed_at <= earlier.executed_at + interval 15 minute
    qualify row_number() over (partition by later.transaction_id order by earlier.executed_at desc) = 1
),

-- A broker's split row against the market: there must be a split of that ticker in the
-- row's session, and the shares received must be what the holding just before it becomes
-- (held x (ratio - 1)). Score: |reported - expected| / expected (1 without a market split).
split_rows as (
    select
        transactions.transaction_id,
        transactions.account_id,
        transactions.ticker,
        transactions.quantity,
        market_splits.split_at,
        market_splits.split_ratio
    from transactions
    left join market_splits
        on transactions.ticker = market_splits.ticker and transactions.session_date = market_splits.ex_date
    where transactions.action = 'split'
),

holdings_at_split as (
    select
        split_rows.transaction_id,
        sum(
            case when trades.action = 'buy' then 1 else -1 end
            * cast(trades.quantity as decimal(38, 6))
            * {{ split_factor_after('trades.ticker', 'trades.executed_at') }}
        ) as latest_units
    from split_rows
    inner join trades
        on
            split_rows.account_id = trades.account_id
            and split_rows.ticker = trades.ticker
            and split_rows.split_at > trades.executed_at
    group by split_rows.transaction_id
),

split_expectations as (
    select
        split_rows.*,
        coalesce(
            {{ divide_decimal(
                'holdings_at_split.latest_units',
                split_factor_after('split_rows.ticker', 'split_rows.split_at'),
                6
            ) }}
            - {{ divide_decimal(
                'holdings_at_split.latest_units',
                split_factor_after('split_rows.ticker', "split_rows.split_at - interval 1 microsecond"),
                6
            ) }},
            0
        ) as expected_quantity
    from split_rows
    left join holdings_at_split
        on split_rows.transaction_id = holdings_at_split.transaction_id
),

split_anomalies as (
    select
        transaction_id,
        'split_disagrees' as anomaly_reason,
        case
            when split_at is null or expected_quantity = 0 then 1.0
            else abs(cast(quantity - expected_quantity as double)) / cast(expected_quantity as double)
        end as score,
        cast(null as varchar) as related_transaction_id,
        case
            when split_at is null then format('no {} split in the market data for this session', ticker)
            else format(
                '{} shares received; the market''s {}-for-1 split of the holding gives {}',
                quantity, split_ratio, expected_quantity
            )
        end as detail
    from split_expectations
    where split_at is null or quantity is distinct from expected_quantity
),

-- The broker's net cash against the row's own numbers: -(quantity x price + fees) for a buy,
-- quantity x price - fees for a sell, quantity x dividend per share for a dividend. More
-- than a cent apart is flagged. Score: the difference in the account's currency.
amount_expectations as (
    select
        transaction_id,
        reported_amount,
        case action
            when 'buy' then -({{ shares_value('quantity', 'price') }} + fees)
            when 'sell' then {{ shares_value('quantity', 'price') }} - fees
            when 'dividend' then {{ shares_value('quantity', 'price') }}
        end as expected_amount
    from transactions
    -- an amount-only dividend has nothing to check its amount against
    where action in ('buy', 'sell') or (action = 'dividend' and quantity is not null)
),

amount_anomalies as (
    select
        transaction_id,
        'amount_disagrees' as anomaly_reason,
        abs(cast(reported_amount - expected_amount as double)) as score,
        cast(null as varchar) as related_transaction_id,
        format('reported {}, the row''s quantity, price and fees give {}', reported_amount, expected_amount) as detail
    from amount_expectations
    where abs(reported_amount - expected_amount) > 0.01
),

anomalies as (
    select * from price_anomalies
    union all
    select * from session_anomalies
    union all
    select * from size_anomalies
    union all
    select * from duplicate_anomalies
    union all
    select * from split_anomalies
    union all
    select * from amount_anomalies
),

final as (
    select
        anomalies.transaction_id,
        transactions.account_id,
        transactions.executed_at,
        transactions.ticker,
        transactions.action,
        anomalies.anomaly_reason,
        cast(anomalies.score as double) as score,
        anomalies.related_transaction_id,
        anomalies.detail
    from anomalies
    inner join transactions
        on anomalies.transaction_id = transactions.transaction_id
)

select * from final

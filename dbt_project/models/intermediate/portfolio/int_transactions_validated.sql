-- Every staged brokerage transaction, located in its session, with the reason it cannot be
-- used (null = accepted). Nothing is dropped: fct_transactions takes the accepted rows,
-- fct_quarantined_transactions the rest. A row gets the first rule it breaks, in the order
-- of the case expression below; the oversell rule runs last, on the rows that pass the others.
--
-- No accepted row may make a model fail: the limits below keep every accepted value, and
-- the sums the marts make of a hundred such values, inside the marts' decimal types
-- (quantities decimal(18, 6): under 10^12; money decimal(18, 4): under 10^14).
with recursive transactions as (
    select * from {{ ref('stg_brokerage__transactions') }}
),

accounts as (
    select * from {{ ref('stg_brokerage__accounts') }}
),

tickers as (
    select * from {{ ref('int_tickers_enriched') }}
),

sessions as (
    select * from {{ ref('int_trading_sessions_typed') }}
    where exchange = '{{ var("market_exchange") }}'
),

prices as (
    select * from {{ ref('int_bars_1d_adjusted') }}
),

-- What no single transaction of a private account can be: a billion shares, a price of ten
-- million per share, a trillion in one amount, a billion in fees. Far beyond any real row
-- (Berkshire A trades under a million a share), far below what the marts' types hold.
limits as (
    select
        cast(1e9 as decimal(38, 6)) as max_quantity,
        cast(1e7 as decimal(38, 6)) as max_price,
        cast(1e12 as decimal(38, 4)) as max_amount,
        cast(1e9 as decimal(38, 4)) as max_fees,
        cast(1e9 as decimal(38, 6)) as max_holding_latest_units
),

-- The first session of the calendar: a row executed before its open cannot be located in a
-- session (no market, no calendar: a year-1 date is a broken cell, not a trade).
calendar_start as (
    select min(sessions.open_at) as calendar_open_at
    from sessions
),

-- The warehouse's as-of: the open of the first session the market data does not cover yet.
-- A transaction from then on can be neither priced nor checked against the market.
market_horizon as (
    select min(sessions.open_at) as uncovered_from
    from sessions
    where sessions.session_date > (select max(prices.trade_date) from prices)
),

versioned as (
    select
        *,
        row_number() over (
            partition by transaction_id
            order by loaded_at desc, load_id desc
        ) as version_rank
    from transactions
),

-- A transaction belongs to the first session that closes at or after it: in-session trades
-- to their session, overnight and weekend rows to the next one. Positions and cash are
-- stated at session closes, so this is the close at which the row first counts.
sessioned as (
    select
        versioned.*,
        sessions.session_date,
        coalesce(versioned.executed_at >= sessions.open_at, false) as is_in_session
    from versioned
    asof left join sessions
        on versioned.executed_at <= sessions.close_at
),

located as (
    select
        sessioned.*,
        accounts.base_currency,
        accounts.opened_at as account_opened_at,
        calendar_start.calendar_open_at,
        limits.*,
        tickers.currency as ticker_currency,
        accounts.account_id is not null as is_known_account,
        tickers.ticker is not null as is_known_ticker,
        sessioned.action in (
            'buy', 'sell', 'dividend', 'split', 'transfer_in', 'transfer_out'
        ) as is_security_action,
        -- A transfer of shares in carries its cost basis per share in price when the broker
        -- gives it; otherwise the shares count at the session's close (in major units).
        coalesce(
            sessioned.price,
            cast(round(transfer_closes.close * tickers.price_to_major_unit, 6) as decimal(18, 6))
        ) as transfer_in_price,
        -- A dividend may come as the cash amount alone (Schwab's and Fidelity's exports give no
        -- shares held nor dividend per share): then both are null; given, both must be > 0.
        (
            sessioned.action in ('buy', 'sell')
            or (sessioned.action = 'dividend' and (sessioned.quantity is not null or sessioned.price is not null))
        ) as needs_quantity_and_price,
        market_horizon.uncovered_from as market_uncovered_from
    from sessioned
    cross join market_horizon
    cross join calendar_start
    cross join limits
    left join accounts
        on sessioned.account_id = accounts.account_id
    left join tickers
        on sessioned.ticker = tickers.ticker
    left join prices as transfer_closes
        on
            sessioned.action = 'transfer_in'
            and sessioned.ticker = transfer_closes.ticker
            and sessioned.session_date = transfer_closes.trade_date
),

row_checked as (
    select
        *,
        case
            -- a later copy of an id, or an id the export held in several differing versions
            when version_rank > 1 or conflicting_versions > 0 then 'duplicate_id'
            -- short sales are recognised (the broker layouts map them) but not modelled: FIFO on
            -- negative lots is not built, so they are rejected rather than read as a plain sell
            when action = 'short_sale' then 'short_sale'
            -- a broker's action the layouts know but the warehouse does not model (yet)
            when action like 'unsupported:%' then 'unsupported_action'
            when
                action is null
                or action not in (
                    'buy', 'sell', 'dividend', 'deposit', 'withdrawal', 'fee', 'split', 'interest',
                    'withholding_tax', 'transfer_in', 'transfer_out'
                )
                then 'unknown_action'
            -- a cell the loader could not read (its text is in unparsed_values): the cause,
            -- not the null it left behind (a "2,000.00" quantity is not a zero quantity)
            when json_extract_string(unparsed_values, '$.executed_at') is not null then 'unparseable_timestamp'
            when executed_at is null then 'missing_timestamp'
            when json_extract_string(unparsed_values, '$.quantity') is not null then 'unparseable_quantity'
            when json_extract_string(unparsed_values, '$.price') is not null then 'unparseable_price'
            when json_extract_string(unparsed_values, '$.fees') is not null then 'unparseable_fees'
            when json_extract_string(unparsed_values, '$.amount') is not null then 'unparseable_amount'
            when
                executed_at > loaded_at
                or executed_at >= market_uncovered_from
                then 'future_timestamp'
            when executed_at < calendar_open_at then 'before_calendar'
            when not is_known_account then 'unknown_account'
            when executed_at < account_opened_at then 'before_account_opened'
            when is_security_action and not is_known_ticker then 'unknown_ticker'
            when
                (currency is distinct from base_currency)
                or (is_security_action and (ticker_currency is distinct from base_currency))
                then 'currency_mismatch'
            when needs_quantity_and_price and coalesce(quantity, 0) <= 0 then 'non_positive_quantity'
            when needs_quantity_and_price and coalesce(price, 0) <= 0 then 'non_positive_price'
            when action in ('transfer_in', 'transfer_out') and coalesce(quantity, 0) <= 0
                then 'non_positive_quantity'
            when action = 'transfer_in' and price <= 0 then 'non_positive_price'
            when action = 'transfer_in' and transfer_in_price is null then 'missing_cost_basis'
            when abs(quantity) > max_quantity then 'implausible_quantity'
            when abs(price) > max_price then 'implausible_price'
            when
                abs(reported_amount) > max_amount
                or abs(fees) > max_fees
                or abs({{ shares_value('quantity', 'price') }}) > max_amount
                then 'implausible_amount'
            when
                fees < 0
                or (action not in ('split', 'transfer_in', 'transfer_out') and reported_amount is null)
                -- shares moved between accounts move no cash
                or (action in ('transfer_in', 'transfer_out') and reported_amount != 0)
                or (action in ('deposit', 'dividend') and reported_amount <= 0)
                or (action in ('withdrawal', 'fee', 'buy') and reported_amount >= 0)
                -- interest is paid or charged (margin), withholding tax withheld or refunded
                or (action in ('interest', 'withholding_tax') and reported_amount = 0)
                then 'invalid_amount'
        end as row_reject_reason
    from located
),

-- Buys and sells that pass the row rules, in latest share units (split_factor_after) so that
-- quantities on either side of a split add up, numbered in FIFO order per account and ticker.
trade_sequence as (
    select
        transaction_id,
        account_id,
        ticker,
        -- shares in and out of the holding: a transfer in adds like a buy, out takes like a sell
        case when action in ('buy', 'transfer_in') then 'buy' else 'sell' end as action,
        cast(quantity as decimal(38, 6))
        * {{ split_factor_after('row_checked.ticker', 'row_checked.executed_at') }} as latest_units,
        row_number() over (
            partition by account_id, ticker
            order by executed_at, transaction_id
        ) as trade_number
    from row_checked
    where row_reject_reason is null and action in ('buy', 'sell', 'transfer_in', 'transfer_out')
),

-- No short positions: a sell larger than what is held at that moment is rejected, and a
-- rejected sell does not reduce the holding, so every later sell depends on the verdicts
-- before it. That makes the check a walk through the trades (recursive), not a window sum.
-- The same walk rejects a buy that would make the holding implausible (limits).
position_walk as (
    select
        trade_sequence.account_id,
        trade_sequence.ticker,
        trade_sequence.trade_number,
        trade_sequence.transaction_id,
        case
            when trade_sequence.action = 'sell' then 'oversell'
            when trade_sequence.latest_units > limits.max_holding_latest_units then 'implausible_holding'
        end as walk_reject_reason,
        cast(
            case
                when trade_sequence.action = 'sell' then 0
                when trade_sequence.latest_units > limits.max_holding_latest_units then 0
                else trade_sequence.latest_units
            end as decimal(38, 12)
        ) as held_after
    from trade_sequence
    cross join limits
    where trade_sequence.trade_number = 1

    union all

    select
        next_trade.account_id,
        next_trade.ticker,
        next_trade.trade_number,
        next_trade.transaction_id,
        case
            when next_trade.action = 'sell' and next_trade.latest_units > position_walk.held_after
                then 'oversell'
            when
                next_trade.action = 'buy'
                and position_walk.held_after + next_trade.latest_units > limits.max_holding_latest_units
                then 'implausible_holding'
        end as walk_reject_reason,
        cast(
            case
                -- a rejected trade leaves the holding as it was
                when next_trade.action = 'sell' and next_trade.latest_units > position_walk.held_after
                    then position_walk.held_after
                when next_trade.action = 'sell' then position_walk.held_after - next_trade.latest_units
                when position_walk.held_after + next_trade.latest_units > limits.max_holding_latest_units
                    then position_walk.held_after
                else position_walk.held_after + next_trade.latest_units
            end as decimal(38, 12)
        ) as held_after
    from position_walk
    cross join limits
    inner join trade_sequence as next_trade
        on
            position_walk.account_id = next_trade.account_id
            and position_walk.ticker = next_trade.ticker
            and position_walk.trade_number + 1 = next_trade.trade_number
),

final as (
    select
        row_checked.transaction_id,
        row_checked.account_id,
        row_checked.executed_at,
        row_checked.session_date,
        row_checked.is_in_session,
        row_checked.ticker,
        row_checked.action,
        row_checked.quantity,
        case
            when row_checked.action = 'transfer_in' then row_checked.transfer_in_price
            else row_checked.price
        end as price,
        row_checked.fees,
        row_checked.reported_amount,
        row_checked.currency,
        row_checked.base_currency,
        cast(coalesce(row_checked.reported_amount, 0) as decimal(18, 4)) as cash_amount,
        row_checked.loaded_at,
        row_checked.load_id,
        coalesce(
            row_checked.row_reject_reason,
            position_walk.walk_reject_reason
        ) as reject_reason
    from row_checked
    left join position_walk
        on row_checked.transaction_id = position_walk.transaction_id
)

select * from final

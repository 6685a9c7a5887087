-- Realized gains per account, tax year and term: the FIFO matches of fct_lots_realized summed
-- by the year of the sale (New York date, as the sale's `is_long_term` is judged) and by
-- short or long term (held more than one year). Transfers of shares out realize nothing and
-- are left out. Gains and losses are kept apart as well as netted, as a tax form asks.
with realized_lots as (
    select * from {{ ref('fct_lots_realized') }}
    where not is_transfer
),

dated as (
    select
        *,
        year(timezone('{{ var("market_timezone") }}', sold_at)) as tax_year,
        case when is_long_term then 'long_term' else 'short_term' end as term
    from realized_lots
),

final as (
    select
        account_id,
        cast(tax_year as integer) as tax_year,
        term,
        cast(count(*) as integer) as lots_matched,
        cast(count(distinct sell_transaction_id) as integer) as sales,
        cast(sum(proceeds) as decimal(18, 4)) as proceeds,
        cast(sum(fees) as decimal(18, 4)) as fees,
        cast(sum(cost) as decimal(18, 4)) as cost, -- noqa: RF04
        cast(coalesce(sum(realized_pnl) filter (where realized_pnl > 0), 0) as decimal(18, 4)) as gains,
        cast(coalesce(sum(realized_pnl) filter (where realized_pnl < 0), 0) as decimal(18, 4)) as losses,
        cast(sum(realized_pnl) as decimal(18, 4)) as realized_pnl
    from dated
    group by account_id, tax_year, term
)

select * from final

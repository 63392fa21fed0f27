-- Everything that moves a card's balance: successful orders (principal on, closure refund off) and balance-moving trades.
-- Grain: one row per movement (an order or a trade) of a card.
with orders as (
    select * from stg_openapi__orders
),

trades as (
    select * from stg_openapi__card_trades
),

order_movements as (
    select
        provider,
        account_id,
        card_id,
        currency,
        'order' as source,
        order_id as movement_id,
        order_type_name as movement_type,
        coalesce(finished_at, created_at) as moved_at,
        created_at as recorded_at,
        case order_type when 3 then -amount else amount end as balance_effect,
        case when order_type in (1, 2) then amount else 0 end as top_up,
        0 as spend,
        0 as refund,
        0 as fee,
        case order_type when 3 then amount else 0 end as closure_refund,
        _source_file
    from orders
    where status = 2 and card_id is not null
),

trade_movements as (
    -- A reversal or refund credits back (part of) its original trade (origin_trade_id); a
    -- reversal of a purchase cancels it. Failed, pending and verification trades move nothing.
    select
        provider,
        account_id,
        card_id,
        trade_currency as currency,
        'trade' as source,
        trade_id as movement_id,
        trade_type_name as movement_type,
        trade_time as moved_at,
        trade_time as recorded_at,
        balance_effect,
        0 as top_up,
        case when trade_type = 1 then -balance_effect else 0 end as spend,
        case when trade_type in (2, 3) then balance_effect else 0 end as refund,
        case when trade_type = 4 then -balance_effect else 0 end as fee,
        0 as closure_refund,
        _source_file
    from trades
    where balance_effect <> 0
),

final as (
    select * from order_movements
    union all by name
    select * from trade_movements
)

select * from final

-- Closed cards (status 5) that still report a balance, or whose closure refund differs from the balance the card held when it closed.
-- Grain: one row per closed card (provider, account_id, card_id), from its latest comparable snapshot.
with cards as (
    select * from stg_openapi__cards
),

orders as (
    select * from stg_openapi__orders
),

movements as (
    select * from int_cards__movements
),

closed as (
    -- As card_balance_mismatch: only a snapshot read with the order and trade tails says the
    -- movements are loaded up to it. A card no longer closed in its latest one has no finding.
    select *
    from cards
    where chain_complete_through is not null
    qualify row_number() over (
        partition by provider, account_id, card_id order by snapshot_at desc
    ) = 1
        and status = 5
),

closures as (
    -- The successful closure orders of each card (normally one).
    select
        provider,
        account_id,
        card_id,
        sum(amount) as refunded,
        string_agg(order_id, ', ' order by created_at, order_id) as closure_orders
    from orders
    where order_type = 3 and status = 2 and card_id is not null
    group by provider, account_id, card_id
),

held as (
    -- What the card held before its closure: every movement but the closure refund, known
    -- only when its opening order is loaded (before it the card held nothing; a card opened
    -- before the loaded history held an amount the movements cannot tell).
    select
        closed.provider,
        closed.account_id,
        closed.card_id,
        any_value(movements.currency) as currency,
        coalesce(sum(movements.balance_effect) filter (
            where movements.movement_type <> 'close_card'
        ), 0) as balance_closed,
        bool_or(movements.movement_type = 'open_card') as opening_loaded
    from closed
    left join movements
        on closed.provider = movements.provider
        and closed.account_id = movements.account_id
        and closed.card_id = movements.card_id
        and movements.recorded_at <= closed.chain_complete_through
    group by all
),

compared as (
    select
        closed.provider,
        closed.account_id,
        closed.card_id,
        closed.card_last4,
        closed.balance as reported_balance,
        closed.snapshot_at,
        closed.tail_from,
        closed._source_file,
        held.currency,
        closures.refunded,
        closures.closure_orders,
        case when held.opening_loaded then held.balance_closed end as balance_closed
    from closed
    left join closures
        on closed.provider = closures.provider
        and closed.account_id = closures.account_id
        and closed.card_id = closures.card_id
    left join held
        on closed.provider = held.provider
        and closed.account_id = held.account_id
        and closed.card_id = held.card_id
),

findings as (
    -- One finding per card. Where the refund and the balance it closed are both known and
    -- differ, that is the finding (a refund short by x leaves x on the card, or loses it);
    -- otherwise a closed card that still reports money is.
    select
        *,
        refunded is not null and balance_closed is not null
            and refunded <> balance_closed as refund_differs
    from compared
    where (refunded is not null and balance_closed is not null and refunded <> balance_closed)
        or reported_balance <> 0
),

final as (
    select
        'closed_card_balance' as check_name,
        provider,
        account_id,
        'card' as entity_type,
        card_id as entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(case when refund_differs then balance_closed else 0 end as decimal(38, 8))
            as expected,
        cast(case when refund_differs then refunded else reported_balance end as decimal(38, 8))
            as actual,
        cast(
            case when refund_differs then refunded - balance_closed else reported_balance end
            as decimal(38, 8)
        ) as difference,
        case
            when refund_differs then format(
                'Card {} (…{}) held {} when it was closed, but its closure refund ({}) '
                || 'returned {}; the closed card reports {} at {}.',
                card_id, coalesce(card_last4, '????'), balance_closed::varchar,
                closure_orders, refunded::varchar, reported_balance::varchar,
                strftime(snapshot_at, '%Y-%m-%d %H:%M:%S')
            )
            else format(
                'Card {} (…{}) is closed but reports a balance of {} at {}{}.',
                card_id, coalesce(card_last4, '????'), reported_balance::varchar,
                strftime(snapshot_at, '%Y-%m-%d %H:%M:%S'),
                case
                    when closure_orders is null then ' (no closure refund is loaded)'
                    else ' after its closure refund (' || closure_orders || ')'
                end
            )
        end as detail,
        false as is_pending,
        card_id as break_key,
        _source_file as source_file,
        tail_from as window_start,
        snapshot_at as window_end
    from findings
)

select * from final

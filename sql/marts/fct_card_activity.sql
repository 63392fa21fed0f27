-- Each card's day: opening balance, top-ups, spend, refunds, fees, closure refunds and closing balance, from its successful orders and trades, opening at the balance it held before the loaded history.
-- Grain: one row per card and calendar day (provider clock), every day from the card's first movement to its last.
with movements as (
    select * from int_cards__movements
),

orders as (
    select * from stg_openapi__orders
),

cards as (
    select * from stg_openapi__cards
),

opened_in_history as (
    -- A card whose opening order is loaded held nothing before it.
    select distinct provider, account_id, card_id
    from orders
    where order_type = 1 and status = 2 and card_id is not null
),

comparable as (
    -- The latest snapshot read together with the order and trade tails (as
    -- card_balance_mismatch uses): the movements up to chain_complete_through are all loaded.
    select *
    from cards
    where chain_complete_through is not null
    qualify row_number() over (
        partition by provider, account_id, card_id order by snapshot_at desc
    ) = 1
),

carried_in as (
    -- What an older card held before its first loaded movement: its reported balance less
    -- every loaded movement up to that snapshot.
    select
        comparable.provider,
        comparable.account_id,
        comparable.card_id,
        comparable.balance - coalesce(sum(movements.balance_effect), 0) as balance_before
    from comparable
    left join movements
        on comparable.provider = movements.provider
        and comparable.account_id = movements.account_id
        and comparable.card_id = movements.card_id
        and movements.recorded_at <= comparable.chain_complete_through
    group by comparable.provider, comparable.account_id, comparable.card_id, comparable.balance
),

openings as (
    select
        carried_in.provider,
        carried_in.account_id,
        carried_in.card_id,
        carried_in.balance_before
    from carried_in
    anti join opened_in_history
        on carried_in.provider = opened_in_history.provider
        and carried_in.account_id = opened_in_history.account_id
        and carried_in.card_id = opened_in_history.card_id
),

per_day as (
    select
        provider,
        account_id,
        card_id,
        any_value(currency) as currency,
        cast(moved_at as date) as activity_date,
        sum(top_up) as top_ups,
        sum(spend) as spend,
        sum(refund) as refunds,
        sum(fee) as fees,
        sum(closure_refund) as closure_refunds,
        sum(balance_effect) as net_change,
        count(*) filter (where source = 'trade') as trades,
        count(*) filter (where source = 'order') as orders
    from movements
    group by provider, account_id, card_id, cast(moved_at as date)
),

card_span as (
    select
        provider,
        account_id,
        card_id,
        any_value(currency) as currency,
        min(activity_date) as first_day,
        max(activity_date) as last_day
    from per_day
    group by provider, account_id, card_id
),

card_days as (
    select
        provider,
        account_id,
        card_id,
        currency,
        cast(unnest(generate_series(
            cast(first_day as timestamp), cast(last_day as timestamp), interval 1 day
        )) as date) as activity_date
    from card_span
),

dense as (
    select
        card_days.provider,
        card_days.account_id,
        card_days.card_id,
        card_days.currency,
        card_days.activity_date,
        coalesce(per_day.top_ups, 0) as top_ups,
        coalesce(per_day.spend, 0) as spend,
        coalesce(per_day.refunds, 0) as refunds,
        coalesce(per_day.fees, 0) as fees,
        coalesce(per_day.closure_refunds, 0) as closure_refunds,
        coalesce(per_day.net_change, 0) as net_change,
        coalesce(per_day.trades, 0) as trades,
        coalesce(per_day.orders, 0) as orders
    from card_days
    left join per_day
        on card_days.provider = per_day.provider
        and card_days.account_id = per_day.account_id
        and card_days.card_id = per_day.card_id
        and card_days.activity_date = per_day.activity_date
),

running as (
    select
        dense.*,
        coalesce(openings.balance_before, 0) + sum(dense.net_change) over (
            partition by dense.provider, dense.account_id, dense.card_id
            order by dense.activity_date
            rows between unbounded preceding and current row
        ) as closing_balance
    from dense
    left join openings
        on dense.provider = openings.provider
        and dense.account_id = openings.account_id
        and dense.card_id = openings.card_id
),

final as (
    select
        provider,
        account_id,
        card_id,
        currency,
        activity_date,
        cast(closing_balance - net_change as decimal(18, 2)) as opening_balance,
        cast(top_ups as decimal(18, 2)) as top_ups,
        cast(spend as decimal(18, 2)) as spend,
        cast(refunds as decimal(18, 2)) as refunds,
        cast(fees as decimal(18, 2)) as fees,
        cast(closure_refunds as decimal(18, 2)) as closure_refunds,
        cast(closing_balance as decimal(18, 2)) as closing_balance,
        trades,
        orders
    from running
)

select * from final

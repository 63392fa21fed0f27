-- Successful card orders with no wallet entry (record_id = order_id); pending while the entry may still arrive.
-- Grain: one row per order without its entry (provider, account_id, order_id).
with orders as (
    select * from int_orders__debits
),

grace as (
    select * from int_ledger__grace
),

missing as (
    select
        orders.*,
        -- The entry is booked when the order finishes, possibly in the next day's window.
        coalesce(orders.finished_at, orders.created_at) > grace.settled_until as is_pending
    from orders
    cross join grace
    where orders.status = 2 and orders.booked_entries = 0
),

final as (
    select
        'order_debit_missing' as check_name,
        provider,
        account_id,
        'order' as entity_type,
        order_id as entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(total_amount as decimal(38, 8)) as expected,
        cast(null as decimal(38, 8)) as actual,
        cast(null as decimal(38, 8)) as difference,
        format(
            'Card order {} ({}, card {}) succeeded for {} {} but no wallet entry was booked '
            || 'for it.',
            order_id, order_type_name, coalesce(card_id, '?'), total_amount::varchar, currency
        ) as detail,
        is_pending,
        order_id as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from missing
)

select * from final

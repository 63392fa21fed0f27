-- Card orders with the wallet entries booked for them (record_id = order_id), and what they should be.
-- Grain: one row per order (provider, account_id, order_id).
with orders as (
    select * from stg_openapi__orders
),

entries as (
    select * from stg_openapi__transactions
),

booked as (
    select
        provider,
        account_id,
        record_id as order_id,
        count(*) as entries,
        sum(signed_amount) as booked_signed_amount,
        min(transaction_id) as transaction_id,
        min(_source_file) as entry_source_file
    from entries
    where record_id is not null
    group by provider, account_id, record_id
),

final as (
    select
        orders.*,
        -- providers.md 1.6: opening and top-up debit total_amount, closing credits it back;
        -- failed or unfinished orders move nothing.
        case
            when orders.status <> 2 then 0
            when orders.order_type in (1, 2) then -orders.total_amount
            when orders.order_type = 3 then orders.total_amount
        end as expected_signed_amount,
        coalesce(booked.entries, 0) as booked_entries,
        coalesce(booked.booked_signed_amount, 0) as booked_signed_amount,
        booked.transaction_id as booked_transaction_id,
        booked.entry_source_file
    from orders
    left join booked
        on orders.provider = booked.provider
        and orders.account_id = booked.account_id
        and orders.order_id = booked.order_id
)

select * from final

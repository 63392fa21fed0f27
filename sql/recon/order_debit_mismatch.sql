-- Card orders whose wallet entries do not move the order's total_amount (or move money for an order that did not succeed).
-- Grain: one row per offending order (provider, account_id, order_id).
with orders as (
    select * from int_orders__debits
),

final as (
    select
        'order_debit_mismatch' as check_name,
        provider,
        account_id,
        'order' as entity_type,
        order_id as entity_id,
        booked_transaction_id as transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(abs(expected_signed_amount) as decimal(38, 8)) as expected,
        cast(abs(booked_signed_amount) as decimal(38, 8)) as actual,
        cast(abs(booked_signed_amount) - abs(expected_signed_amount) as decimal(38, 8))
            as difference,
        case
            when status <> 2 then format(
                'Card order {} is {} but wallet entry {} moved {} {} for it.',
                order_id, status_name, booked_transaction_id,
                abs(booked_signed_amount)::varchar, currency
            )
            else format(
                'Card order {} ({}) totals {} {} (principal {} + fee {}), but its wallet '
                || 'entries move {}.',
                order_id, order_type_name, total_amount::varchar, currency, amount::varchar,
                fee::varchar, booked_signed_amount::varchar
            )
        end as detail,
        false as is_pending,
        order_id as break_key,
        coalesce(entry_source_file, _source_file) as source_file,
        _window_start as window_start,
        _window_end as window_end
    from orders
    where booked_entries > 0
        and (booked_signed_amount <> expected_signed_amount or booked_entries > 1)
)

select * from final

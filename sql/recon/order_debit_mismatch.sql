-- Card orders whose wallet entries do not move the order's total_amount (or move money for an order that did not succeed).
-- Grain: one row per offending order (provider, account_id, order_id).
with orders as (
    select
        *,
        -- +1 where the order credits the wallet (closing), -1 where it debits it
        case when order_type = 3 then 1 else -1 end as direction
    from int_orders__debits
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
        -- Amounts in the order's direction: an entry booked the wrong way shows as negative.
        cast(abs(expected_signed_amount) as decimal(38, 8)) as expected,
        cast(booked_signed_amount * direction as decimal(38, 8)) as actual,
        cast(booked_signed_amount * direction - abs(expected_signed_amount) as decimal(38, 8))
            as difference,
        case
            when status <> 2 then format(
                'Card order {} is {} but {} wallet entr{} (first {}) moved {} {} for it.',
                order_id, status_name, booked_entries,
                case when booked_entries = 1 then 'y' else 'ies' end,
                booked_transaction_id, abs(booked_signed_amount)::varchar, currency
            )
            else format(
                'Card order {} ({}) should {} the wallet {} {} ({}), but its {} wallet entr{} '
                || '(first {}) {}.',
                order_id, order_type_name,
                case when order_type = 3 then 'credit' else 'debit' end,
                total_amount::varchar, currency,
                case
                    when order_type = 3
                        then format('{} off the card less fee {}', amount::varchar, fee::varchar)
                    else format('principal {} + fee {}', amount::varchar, fee::varchar)
                end,
                booked_entries, case when booked_entries = 1 then 'y' else 'ies' end,
                booked_transaction_id,
                case
                    when booked_signed_amount * direction < 0
                        then format('moved {} the other way', abs(booked_signed_amount)::varchar)
                    else format('moved {}', abs(booked_signed_amount)::varchar)
                end
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

-- Payments (type 5010) whose amount differs from the pay-out plus the fee their attach states.
-- Grain: one row per mismatched payment entry (provider, account_id, transaction_id).
with entries as (
    select * from stg_openapi__transactions
),

payments as (
    -- An attach without both numbers, or paying out in another currency than the wallet's,
    -- states nothing to compare the amount with.
    select *
    from entries
    where transaction_type = 5010
        and payment_pay_out_amount is not null
        and payment_fee is not null
        and coalesce(payment_pay_out_currency, currency) = currency
),

mismatched as (
    select
        *,
        payment_pay_out_amount + payment_fee as stated_amount
    from payments
    where amount <> payment_pay_out_amount + payment_fee
),

final as (
    select
        'payment_fee_mismatch' as check_name,
        provider,
        account_id,
        'entry' as entity_type,
        transaction_id as entity_id,
        transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(stated_amount as decimal(38, 8)) as expected,
        cast(amount as decimal(38, 8)) as actual,
        cast(amount - stated_amount as decimal(38, 8)) as difference,
        format(
            'Payment {} ({}) took {} {} from the wallet, but its attach states a pay-out of {} '
            || 'plus a fee of {}, {} in all.',
            transaction_id, coalesce(record_id, 'no payment id'), amount::varchar, currency,
            payment_pay_out_amount::decimal(38, 2)::varchar, payment_fee::decimal(38, 2)::varchar,
            stated_amount::decimal(38, 2)::varchar
        ) as detail,
        false as is_pending,
        transaction_id as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from mismatched
)

select * from final

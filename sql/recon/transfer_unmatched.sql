-- Transfers between providers with one side only: a payment to JT with no JT credit of its reference, or a deposit from JT with no JT debit; pending while the other side may still be booked.
-- Grain: one row per unmatched transfer side (provider, account_id, transfer_ref).
with transfers as (
    select * from int_transfers__paired
),

unmatched as (
    -- A side the loaded JT history cannot hold (before it, or no JT loaded) is not judged:
    -- like a first entry, it has nothing to be matched against yet.
    select * from transfers
    where not is_paired and is_judged
),

final as (
    select
        'transfer_unmatched' as check_name,
        provider,
        account_id,
        'transfer' as entity_type,
        transfer_ref as entity_id,
        transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(arrival_expected as decimal(38, 8)) as expected,
        cast(0 as decimal(38, 8)) as actual,
        cast(-arrival_expected as decimal(38, 8)) as difference,
        case side
            when 'departure' then format(
                'Transfer {}: payment {} sent {} {} (fee {}) to JT{}, but no JT balance record '
                || 'with mchOrderId {} received it.',
                transfer_ref, transaction_id, amount::varchar, currency,
                fee::decimal(38, 2)::varchar,
                coalesce(' user ' || counterparty_account, ''), transfer_ref
            )
            else format(
                'Transfer {}: deposit {} received {} {} from JT{}, but no JT balance record '
                || 'with mchOrderId {} sent it.',
                transfer_ref, transaction_id, amount::varchar, currency,
                coalesce(' user ' || counterparty_account, ''), transfer_ref
            )
        end as detail,
        coalesce(counterpart_may_come, false) as is_pending,
        transfer_ref || ':' || side as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from unmatched
)

select * from final

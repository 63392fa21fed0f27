-- Transfers between providers whose arrival differs from the departure by more than the fee the departure states (short of departure minus fee, or above the departure), or arrives in another currency.
-- Grain: one row per mismatched transfer (provider, account_id, transfer_ref).
with transfers as (
    select * from int_transfers__paired
),

mismatched as (
    -- The fee is what the sender may lose on the way: an arrival between departure - fee
    -- and the departure is within it.
    select * from transfers
    where is_paired
        and (
            counterpart_currency <> currency
            or arrival_amount < departure_amount - fee
            or arrival_amount > departure_amount
        )
),

final as (
    select
        'transfer_amount_mismatch' as check_name,
        provider,
        account_id,
        'transfer' as entity_type,
        transfer_ref as entity_id,
        transaction_id,
        counterpart_transaction_id as related_transaction_id,
        currency,
        -- In the departure's currency; another currency on arrival is named in the detail.
        cast(departure_amount - fee as decimal(38, 8)) as expected,
        cast(arrival_amount as decimal(38, 8)) as actual,
        cast(arrival_amount - (departure_amount - fee) as decimal(38, 8)) as difference,
        format(
            'Transfer {}: {} {} left {} (fee {}), so {} {} should have arrived at {}, but {} {} '
            || 'did ({}).',
            transfer_ref, departure_amount::varchar, departure_currency,
            case side when 'departure' then 'OPEN-API' else 'JT' end,
            fee::decimal(38, 2)::varchar,
            (departure_amount - fee)::decimal(38, 2)::varchar, departure_currency,
            case side when 'departure' then 'JT' else 'OPEN-API' end,
            arrival_amount::varchar, arrival_currency,
            case side
                when 'departure' then 'payment ' || transaction_id || ', JT record '
                    || counterpart_transaction_id
                else 'JT record ' || counterpart_transaction_id || ', deposit ' || transaction_id
            end
        ) as detail,
        false as is_pending,
        transfer_ref as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from mismatched
)

select * from final

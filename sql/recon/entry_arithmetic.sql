-- Ledger entries whose balances did not move by their amount (after - before = +amount for income, -amount for expense).
-- Grain: one row per offending entry (provider, account_id, transaction_id, in_out_type, currency), over every provider's ledger.
with entries as (
    select * from fct_ledger_entries
),

checked as (
    select
        *,
        case in_out_type
            when 1 then after_balance - before_balance
            else before_balance - after_balance
        end as balance_movement
    from entries
),

final as (
    select
        'entry_arithmetic' as check_name,
        provider,
        account_id,
        'entry' as entity_type,
        transaction_id as entity_id,
        transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(balance_movement as decimal(38, 8)) as expected,
        cast(amount as decimal(38, 8)) as actual,
        cast(amount - balance_movement as decimal(38, 8)) as difference,
        format(
            'Entry {} ({}) says {} {} but the balance went from {} to {}, a movement of {}.',
            transaction_id, direction, amount::varchar, currency,
            before_balance::varchar, after_balance::varchar, balance_movement::varchar
        ) as detail,
        false as is_pending,
        transaction_id || ':' || in_out_type || ':' || currency as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from checked
    where balance_movement <> amount
)

select * from final

-- Currency exchanges without exactly one sold (expense) leg and one bought (income) leg in two currencies.
-- Grain: one row per incomplete exchange (provider, account_id, transaction_id).
with exchanges as (
    select * from int_exchanges__paired
),

grace as (
    select * from int_ledger__grace
),

incomplete as (
    select
        exchanges.*,
        case
            when exchanges.income_legs = 0 then 'income'
            when exchanges.expense_legs = 0 then 'expense'
        end as missing_side,
        -- A leg may still come from just before or just after the loaded span.
        exchanges.last_leg_at > grace.settled_until
        or exchanges.first_leg_at < grace.settled_from as is_pending
    from exchanges
    cross join grace
    where not exchanges.is_complete
),

final as (
    select
        'fx_missing_leg' as check_name,
        provider,
        account_id,
        'exchange' as entity_type,
        transaction_id as entity_id,
        transaction_id,
        cast(null as varchar) as related_transaction_id,
        case missing_side
            when 'income' then coalesce(attach_buy_currency, buy_currency)
            when 'expense' then coalesce(attach_sell_currency, sell_currency)
            else coalesce(sell_currency, buy_currency)
        end as currency,
        cast(null as decimal(38, 8)) as expected,
        cast(null as decimal(38, 8)) as actual,
        cast(null as decimal(38, 8)) as difference,
        case
            when missing_side is not null then format(
                'Exchange {} has its {} leg in the ledger but its {} leg ({}) is missing.',
                transaction_id,
                case missing_side when 'income' then 'sell' else 'buy' end,
                case missing_side when 'income' then 'buy' else 'sell' end,
                case missing_side
                    when 'income' then coalesce(attach_buy_currency, '?')
                    else coalesce(attach_sell_currency, '?')
                end
            )
            else format(
                'Exchange {} has {} sell and {} buy legs; it needs exactly one of each, '
                || 'in two currencies.',
                transaction_id, expense_legs, income_legs
            )
        end as detail,
        is_pending,
        transaction_id as break_key,
        source_file,
        window_start,
        window_end
    from incomplete
)

select * from final

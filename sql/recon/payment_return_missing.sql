-- Rejected payments (5010, status 3) not returned in full by 5020 income rows of the same record_id, and payments returned more than they took; pending while the return may still arrive.
-- Grain: one row per payment entry with a missing, short or excess return (provider, account_id, transaction_id).
with entries as (
    select * from stg_openapi__transactions
),

grace as (
    select * from int_ledger__grace
),

payments as (
    select * from entries
    where transaction_type = 5010
),

returns as (
    -- Every 5020 row moved the balance whatever its status (providers.md 1.3), so each
    -- one counts as returned; a return in another currency returns nothing of this payment.
    select
        provider,
        account_id,
        record_id,
        currency,
        sum(amount) as returned,
        count(*) as return_count,
        arg_max(transaction_id, transaction_time) as last_return_id
    from entries
    where transaction_type = 5020 and in_out_type = 1 and record_id is not null
    group by provider, account_id, record_id, currency
),

compared as (
    select
        payments.*,
        coalesce(returns.returned, 0) as returned,
        coalesce(returns.return_count, 0) as return_count,
        returns.last_return_id,
        case
            when coalesce(returns.returned, 0) > payments.amount then 'excess'
            when payments.status = 3 and coalesce(returns.returned, 0) < payments.amount
                then 'missing'
        end as finding,
        -- The return is booked when the payment is rejected (approve_at), possibly in the
        -- next day's window.
        coalesce(payments.approve_at, payments.transaction_time) > grace.settled_until
            as decided_in_grace
    from payments
    cross join grace
    left join returns
        on payments.provider = returns.provider
        and payments.account_id = returns.account_id
        and payments.record_id = returns.record_id
        and payments.currency = returns.currency
),

final as (
    select
        'payment_return_missing' as check_name,
        provider,
        account_id,
        'entry' as entity_type,
        transaction_id as entity_id,
        transaction_id,
        last_return_id as related_transaction_id,
        currency,
        cast(amount as decimal(38, 8)) as expected,
        cast(returned as decimal(38, 8)) as actual,
        cast(returned - amount as decimal(38, 8)) as difference,
        case finding
            when 'excess' then format(
                'Payment {} ({}) took {} {}, but {} return row(s) (5020, the latest {}) gave back '
                || '{}: {} more than it took.',
                transaction_id, coalesce(record_id, 'no payment id'), amount::varchar, currency,
                return_count, last_return_id, returned::varchar, (returned - amount)::varchar
            )
            when 'missing' then format(
                'Payment {} ({}) of {} {} was rejected{}, but {}.',
                transaction_id, coalesce(record_id, 'no payment id'), amount::varchar, currency,
                coalesce(' at ' || strftime(approve_at, '%Y-%m-%d %H:%M:%S'), ''),
                case
                    when return_count = 0 then 'no return row (5020) gave the money back'
                    else 'its return row(s) (5020) gave back only ' || returned::varchar
                end
            )
        end as detail,
        coalesce(finding = 'missing' and decided_in_grace, false) as is_pending,
        transaction_id || ':' || finding as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from compared
    where finding is not null
)

select * from final

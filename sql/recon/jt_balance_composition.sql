-- JT users whose balance is not their base plus COD balance, and JT totals that are not the sums over the users reported with them.
-- Grain: one row per offending user (account_id, mch_uuid) or total field (account_id, field), as of the latest reading.
with users as (
    select * from stg_jt__users
),

totals as (
    select * from stg_jt__user_totals
),

latest_users as (
    -- The users of the newest reading: a user no longer listed has no finding any more. A
    -- reading identical to the one before is not loaded again, so the newest loaded users
    -- are also the users as of a newer totals reading.
    select *
    from users
    qualify snapshot_at = max(snapshot_at) over (partition by provider, account_id)
),

user_breaks as (
    select
        provider,
        account_id,
        'user' as entity_type,
        mch_uuid as entity_id,
        currency,
        base_balance + cod_balance as expected,
        balance as actual,
        format(
            'User {} reports a balance of {} {}, but its base balance {} and COD balance {} '
            || 'add up to {}.',
            mch_uuid, balance::varchar, currency, base_balance::varchar,
            cod_balance::varchar, (base_balance + cod_balance)::varchar
        ) as detail,
        'balance' as break_key,
        _source_file as source_file,
        snapshot_at
    from latest_users
    where balance <> base_balance + cod_balance
),

latest_totals as (
    select *
    from totals
    qualify row_number() over (partition by provider, account_id order by snapshot_at desc) = 1
),

sums as (
    -- The newest totals against the newest users: each table skips a reading identical to
    -- its newest, so the two may carry different snapshot times and still be one state.
    select
        provider,
        account_id,
        sum(balance) as balance,
        sum(base_balance) as base_balance,
        sum(cod_balance) as cod_balance,
        sum(withdraw_threshold) as withdraw_threshold,
        sum(unclear_bill_amount) as unclear_bill_amount,
        sum(unclear_bill_amount_due) as unclear_bill_amount_due
    from latest_users
    group by all
),

total_pairs as (
    select
        latest_totals.*,
        field.name as field_name,
        field.reported,
        field.summed
    from latest_totals
    inner join sums
        on latest_totals.provider = sums.provider
        and latest_totals.account_id = sums.account_id
    cross join lateral (
        values
            ('totalBalance', latest_totals.total_balance, sums.balance),
            ('totalBaseBalance', latest_totals.total_base_balance, sums.base_balance),
            ('totalCodBalance', latest_totals.total_cod_balance, sums.cod_balance),
            (
                'totalWithdrawThreshold',
                latest_totals.total_withdraw_threshold, sums.withdraw_threshold
            ),
            (
                'totalUnclearBillAmount',
                latest_totals.total_unclear_bill_amount, sums.unclear_bill_amount
            ),
            (
                'totalUnclearBillAmountDue',
                latest_totals.total_unclear_bill_amount_due, sums.unclear_bill_amount_due
            )
    ) as field(name, reported, summed)
),

total_breaks as (
    select
        provider,
        account_id,
        'user_totals' as entity_type,
        field_name as entity_id,
        currency,
        summed as expected,
        reported as actual,
        format(
            'JT reports {} of {} {} over {} users, but the users it listed add up to {}.',
            field_name, reported::varchar, currency, users::varchar, summed::varchar
        ) as detail,
        field_name as break_key,
        _source_file as source_file,
        snapshot_at
    from total_pairs
    where reported is not null and reported is distinct from coalesce(summed, 0)
),

final as (
    select
        'jt_balance_composition' as check_name,
        provider,
        account_id,
        entity_type,
        entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(expected as decimal(38, 8)) as expected,
        cast(actual as decimal(38, 8)) as actual,
        cast(actual - expected as decimal(38, 8)) as difference,
        detail,
        false as is_pending,
        break_key,
        source_file,
        snapshot_at as window_start,
        snapshot_at as window_end
    from (
        select * from user_breaks
        union all by name
        select * from total_breaks
    )
)

select * from final

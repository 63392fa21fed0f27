-- Entries booked twice: the same movement under a second transaction id (OPEN-API) or balance record number (JT), or an entry key redelivered with different amounts or balances.
-- Grain: one row per duplicate entry (the later booking, or the redelivered key).
with entries as (
    select * from stg_openapi__transactions
),

versions as (
    select * from raw_openapi__transactions_history
),

jt_records as (
    select * from stg_jt__balance_records
),

jt_versions as (
    select * from raw_jt__balance_records_history
),

movements as (
    -- A movement is identified by its external id: the same deposit cannot arrive twice.
    select
        *,
        first_value(transaction_id) over w_movement as first_transaction_id,
        row_number() over w_movement as booking_no
    from entries
    where out_transaction_id is not null
    window w_movement as (
        partition by
            provider, account_id, currency, in_out_type, transaction_type,
            out_transaction_id, amount
        order by transaction_time, created_at, transaction_id
    )
),

rebooked as (
    select
        provider,
        account_id,
        transaction_id,
        first_transaction_id as related_transaction_id,
        currency,
        cast(null as decimal(38, 8)) as expected,
        cast(null as decimal(38, 8)) as actual,
        cast(null as decimal(38, 8)) as difference,
        format(
            'Entry {} books {} {} from external id {} a second time (first booked as {}).',
            transaction_id, amount::varchar, currency, out_transaction_id, first_transaction_id
        ) as detail,
        transaction_id || ':' || in_out_type || ':' || currency as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from movements
    where booking_no > 1
),

first_conflict as (
    -- The provider served this key before with another amount or other balances; statuses
    -- and remarks may change, booked money may not. The earliest such version is reported.
    select
        current_row.*,
        old.amount as old_amount,
        old.before_balance as old_before_balance,
        old.after_balance as old_after_balance,
        old._fetched_at as old_fetched_at
    from entries as current_row
    inner join versions as old
        on current_row.customer_id = old.customer_id
        and current_row.transaction_id = old.transaction_id
        and current_row.in_out_type = old.in_out_type
        and current_row.currency = old.currency
    where old.amount <> current_row.amount
        or old.before_balance <> current_row.before_balance
        or old.after_balance <> current_row.after_balance
    qualify row_number() over (
        partition by current_row.customer_id, current_row.transaction_id,
            current_row.in_out_type, current_row.currency
        order by old._replaced_at, old._fetched_at
    ) = 1
),

conflicting as (
    select
        provider,
        account_id,
        transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(old_amount as decimal(38, 8)) as expected,
        cast(amount as decimal(38, 8)) as actual,
        cast(amount - old_amount as decimal(38, 8)) as difference,
        format(
            'Entry {} was delivered again with different content: amount {} (was {} when '
            || 'first fetched at {}), balances {} -> {} (were {} -> {}).',
            transaction_id, amount::varchar, old_amount::varchar,
            strftime(old_fetched_at, '%Y-%m-%d %H:%M:%S'),
            before_balance::varchar, after_balance::varchar,
            old_before_balance::varchar, old_after_balance::varchar
        ) as detail,
        transaction_id || ':' || in_out_type || ':' || currency || ':redelivered' as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from first_conflict
),

jt_movements as (
    -- A JT movement is identified by the merchant's order id: the same order cannot move a
    -- user's wallet twice in the same direction, for the same business and amount.
    select
        *,
        first_value(balance_ref_no) over w_movement as first_balance_ref_no,
        row_number() over w_movement as booking_no
    from jt_records
    where mch_order_id is not null
    window w_movement as (
        partition by
            provider, account_id, mch_uuid, record_type, business_type, mch_order_id, amount
        order by created_at, balance_ref_no
    )
),

jt_rebooked as (
    select
        provider,
        account_id,
        balance_ref_no as transaction_id,
        first_balance_ref_no as related_transaction_id,
        currency,
        cast(null as decimal(38, 8)) as expected,
        cast(null as decimal(38, 8)) as actual,
        cast(null as decimal(38, 8)) as difference,
        format(
            'Balance record {} books {} {} ({} {}) for merchant order {} of user {} a second '
            || 'time (first booked as {}).',
            balance_ref_no, amount::varchar, currency, record_type, coalesce(business_type, ''),
            mch_order_id, mch_uuid, first_balance_ref_no
        ) as detail,
        balance_ref_no as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from jt_movements
    where booking_no > 1
),

jt_first_conflict as (
    -- As for OPEN-API: JT served this balance record before with another amount or other
    -- balances (its key is the app and balanceRefNo). The earliest such version is reported.
    select
        current_row.*,
        old.amount as old_amount,
        old.before_balance as old_before_balance,
        old.after_balance as old_after_balance,
        old._fetched_at as old_fetched_at
    from jt_records as current_row
    inner join jt_versions as old
        on current_row.account_id = old.app_id
        and current_row.balance_ref_no = old.balance_ref_no
    where old.amount_minor <> current_row.amount_minor
        or old.before_balance_minor <> current_row.before_balance_minor
        or old.after_balance_minor <> current_row.after_balance_minor
    qualify row_number() over (
        partition by current_row.account_id, current_row.balance_ref_no
        order by old._replaced_at, old._fetched_at
    ) = 1
),

jt_conflicting as (
    select
        provider,
        account_id,
        balance_ref_no as transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(old_amount as decimal(38, 8)) as expected,
        cast(amount as decimal(38, 8)) as actual,
        cast(amount - old_amount as decimal(38, 8)) as difference,
        format(
            'Balance record {} of user {} was delivered again with different content: amount '
            || '{} (was {} when first fetched at {}), balances {} -> {} (were {} -> {}).',
            balance_ref_no, mch_uuid, amount::varchar, old_amount::varchar,
            strftime(old_fetched_at, '%Y-%m-%d %H:%M:%S'),
            before_balance::varchar, after_balance::varchar,
            old_before_balance::varchar, old_after_balance::varchar
        ) as detail,
        balance_ref_no || ':redelivered' as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from jt_first_conflict
),

findings as (
    select * from rebooked
    union all by name
    select * from conflicting
    union all by name
    select * from jt_rebooked
    union all by name
    select * from jt_conflicting
),

final as (
    select
        'duplicate_entry' as check_name,
        provider,
        account_id,
        'entry' as entity_type,
        transaction_id as entity_id,
        transaction_id,
        related_transaction_id,
        currency,
        expected,
        actual,
        difference,
        detail,
        false as is_pending,
        break_key,
        source_file,
        window_start,
        window_end
    from findings
)

select * from final

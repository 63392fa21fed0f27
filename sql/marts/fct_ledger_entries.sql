-- Every wallet ledger entry of every provider in one shape: OPEN-API transaction bills and JT balance records, major-unit DECIMAL amounts, JT's minor units kept.
-- Grain: one row per ledger entry (provider, account_id, wallet_key, transaction_id, in_out_type).
with openapi_entries as (
    select * from stg_openapi__transactions
),

jt_records as (
    select * from stg_jt__balance_records
),

openapi as (
    select
        provider,
        account_id,
        -- A wallet is one currency of one customer (reconciliation.md §1).
        account_id || ':' || currency as wallet_key,
        currency as wallet_name,
        currency,
        transaction_id,
        in_out_type,
        direction,
        cast(transaction_type as varchar) as entry_type,
        out_transaction_id as external_id,
        amount,
        signed_amount,
        before_balance,
        after_balance,
        cast(null as bigint) as amount_minor,
        cast(null as bigint) as before_balance_minor,
        cast(null as bigint) as after_balance_minor,
        status_name,
        transaction_time,
        created_at,
        _window_start,
        _window_end,
        _fetched_at,
        _source_file
    from openapi_entries
),

jt as (
    select
        provider,
        account_id,
        -- A JT wallet is one user of the merchant.
        mch_uuid as wallet_key,
        currency || ' (user ' || mch_uuid || ')' as wallet_name,
        currency,
        balance_ref_no as transaction_id,
        in_out_type,
        direction,
        business_type as entry_type,
        mch_order_id as external_id,
        amount,
        case in_out_type when 1 then amount else -amount end as signed_amount,
        before_balance,
        after_balance,
        amount_minor,
        before_balance_minor,
        after_balance_minor,
        -- JT lists only booked records.
        'approved' as status_name,
        -- JT records carry one time, when they were booked.
        created_at as transaction_time,
        created_at,
        _window_start,
        _window_end,
        _fetched_at,
        _source_file
    from jt_records
),

final as (
    select * from openapi
    union all by name
    select * from jt
)

select * from final

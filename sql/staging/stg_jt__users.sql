-- JT wallet users as reported at each snapshot: balance, its base and COD parts, in major units beside the minor units JT sent.
-- Grain: one row per user (app_id, mch_uuid) per snapshot (snapshot_at).
with source as (
    select * from raw_jt__users
),

renamed as (
    select
        'jt' as provider,
        source.app_id as account_id,
        source.mch_uuid,
        source.uuid as user_uuid,
        source.currency,
        source.balance,
        source.base_balance,
        source.cod_balance,
        source.withdraw_threshold,
        source.unclear_bill_amount,
        source.unclear_bill_amount_due,
        source.balance_minor,
        source.base_balance_minor,
        source.cod_balance_minor,
        source.kyc_status,
        source.authorization_status,
        source.mobile_verification_status,
        source.cod_enable_status,
        source.user_status,
        source.create_time as created_at,
        source.update_time as updated_at,
        source._snapshot_at as snapshot_at,
        source._tail_from as tail_from,
        source._chain_through as chain_complete_through,
        source._source_file
    from source
),

final as (
    select * from renamed
)

select * from final

-- JT wallet totals as reported with each users snapshot: the sums JT states over every user of the merchant.
-- Grain: one row per merchant (app_id) per snapshot (snapshot_at).
with source as (
    select * from raw_jt__user_totals
),

renamed as (
    select
        'jt' as provider,
        source.app_id as account_id,
        source.users,
        source.currency,
        source.total_balance,
        source.total_base_balance,
        source.total_cod_balance,
        source.total_withdraw_threshold,
        source.total_unclear_bill_amount,
        source.total_unclear_bill_amount_due,
        source.total_balance_minor,
        source.total_base_balance_minor,
        source.total_cod_balance_minor,
        source._snapshot_at as snapshot_at,
        source._source_file
    from source
),

final as (
    select * from renamed
)

select * from final

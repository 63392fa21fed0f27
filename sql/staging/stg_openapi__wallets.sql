-- OPEN-API wallet snapshots: the provider's reported balances at each snapshot.
-- Grain: one row per wallet (customer_id, wallet_id) per snapshot (snapshot_at).
with source as (
    select * from raw_openapi__wallets
),

renamed as (
    select
        'openapi' as provider,
        source.customer_id,
        cast(source.customer_id as varchar) as account_id,
        source.wallet_id,
        source.wallet_sn,
        source.wallet_name,
        source.currency,
        source.available_balance,
        source.freeze_balance,
        source.status,
        case source.status when 1 then 'normal' when 2 then 'frozen' end as status_name,
        source.create_at as created_at,
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

-- OPEN-API card snapshots (no PAN beyond its last four digits, no CVV, no PIN).
-- Grain: one row per card (customer_id, card_id) per snapshot (snapshot_at).
with source as (
    select * from raw_openapi__cards
),

renamed as (
    select
        'openapi' as provider,
        source.customer_id,
        cast(source.customer_id as varchar) as account_id,
        source.app_id,
        source.card_id,
        source.bin_id,
        nullif(source.holder_id, '') as holder_id,
        source.card_last4,
        source.balance,
        -- providers.md 1.5: `limit` is the card's cumulative top-ups, not a spending limit.
        source."limit" as cumulative_top_up,
        source.expiry,
        source.status,
        case source.status
            when 1 then 'inactive' when 2 then 'active' when 3 then 'frozen'
            when 4 then 'closing' when 5 then 'closed' when 6 then 'lost' when 7 then 'reissued'
        end as status_name,
        source.use_at as activated_at,
        source.close_at as close_requested_at,
        source.end_at as closed_at,
        nullif(source.mark, '') as mark,
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

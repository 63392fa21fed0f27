-- Whalet platform balances (summed over the partner's users by Whalet): each money object as its amount, cents, cent factor and currency, exactly as sent.
-- Grain: one row per fund source and currency (partner_id, fund_source, currency) per snapshot (snapshot_at).
with source as (
    select * from raw_whalet__platform_balances
),

renamed as (
    -- Landed columns are already named and typed; each money object is its `<field>_amount`,
    -- `_cents`, `_cent_factor` and `_currency` columns.
    select
        'whalet' as provider,
        source.partner_id as account_id,
        source.* exclude (partner_id, _snapshot_at, _fetched_at, _source_file),
        source._snapshot_at as snapshot_at,
        source._source_file
    from source
),

final as (
    select * from renamed
)

select * from final

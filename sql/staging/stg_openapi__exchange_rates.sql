-- OPEN-API reference exchange rates as snapshotted (the API serves only the current rate).
-- Grain: one row per customer, currency pair and snapshot (1 from_currency = rate to_currency).
with source as (
    select * from raw_openapi__exchange_rates
),

renamed as (
    select
        'openapi' as provider,
        source.customer_id,
        cast(source.customer_id as varchar) as account_id,
        source.from_currency,
        source.to_currency,
        source.rate,
        source.update_at as rate_updated_at,
        source._snapshot_at as snapshot_at,
        source._source_file
    from source
),

final as (
    select * from renamed
)

select * from final

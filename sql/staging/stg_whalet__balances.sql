-- Whalet currency balances of each user: each money object as its amount, cents, cent factor and currency, exactly as sent.
-- Grain: one row per user, fund source and currency (user_id, fund_source, currency) per snapshot (snapshot_at).
with source as (
    select * from raw_whalet__balances
),

renamed as (
    select
        'whalet' as provider,
        source.user_id as account_id,
        source.fund_source,
        source.currency,
        source.balance_amount,
        source.balance_cents,
        source.balance_cent_factor,
        source.balance_currency,
        source.order_quota_amount,
        source.order_quota_cents,
        source.order_quota_cent_factor,
        source.order_quota_currency,
        source.rmb_amount_amount,
        source.rmb_amount_cents,
        source.rmb_amount_cent_factor,
        source.rmb_amount_currency,
        source.pending_amount_amount,
        source.pending_amount_cents,
        source.pending_amount_cent_factor,
        source.pending_amount_currency,
        source.freeze_amount_amount,
        source.freeze_amount_cents,
        source.freeze_amount_cent_factor,
        source.freeze_amount_currency,
        source._snapshot_at as snapshot_at,
        source._source_file
    from source
),

final as (
    select * from renamed
)

select * from final

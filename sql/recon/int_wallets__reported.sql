-- Every provider's reported wallet balances in one shape: OPEN-API wallet snapshots and JT user balances, with how far their ledger is known complete.
-- Grain: one row per wallet (provider, account_id, wallet_key) per snapshot (snapshot_at).
with openapi_wallets as (
    select * from stg_openapi__wallets
),

jt_users as (
    select * from stg_jt__users
),

openapi as (
    select
        provider,
        account_id,
        account_id || ':' || currency as wallet_key,
        currency,
        'available' as reported_as,
        available_balance as reported_balance,
        snapshot_at,
        tail_from,
        chain_complete_through,
        _source_file
    from openapi_wallets
),

jt as (
    select
        provider,
        account_id,
        mch_uuid as wallet_key,
        currency,
        'as the user''s balance' as reported_as,
        balance as reported_balance,
        snapshot_at,
        tail_from,
        chain_complete_through,
        _source_file
    from jt_users
),

final as (
    select * from openapi
    union all by name
    select * from jt
)

select * from final

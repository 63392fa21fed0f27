-- What the warehouse holds after a run: rows per provider and entity, and rows in quarantine.
-- Grain: one row per (provider, entity).
with loaded as (
    select 'openapi' as provider, 'transactions' as entity, count(*) as row_count
    from raw_openapi__transactions
    union all
    select 'openapi', 'card_trades', count(*) from raw_openapi__card_trades
    union all
    select 'openapi', 'orders', count(*) from raw_openapi__orders
    union all
    select 'openapi', 'wallets (latest snapshot)', count(*)
    from raw_openapi__wallets
    where _snapshot_at = (select max(_snapshot_at) from raw_openapi__wallets)
    union all
    select 'openapi', 'cards (latest snapshot)', count(*)
    from raw_openapi__cards
    where _snapshot_at = (select max(_snapshot_at) from raw_openapi__cards)
    union all
    select 'openapi', 'exchange_rates (latest snapshot)', count(*)
    from raw_openapi__exchange_rates
    where _snapshot_at = (select max(_snapshot_at) from raw_openapi__exchange_rates)
    union all
    select 'jt', 'balance_records', count(*) from raw_jt__balance_records
    union all
    select 'jt', 'users (latest snapshot)', count(*)
    from raw_jt__users
    where _snapshot_at = (select max(_snapshot_at) from raw_jt__users)
    union all
    select 'whalet', 'balances (latest snapshot)', count(*)
    from raw_whalet__balances
    where _snapshot_at = (select max(_snapshot_at) from raw_whalet__balances)
    union all
    select 'whalet', 'platform_balances (latest snapshot)', count(*)
    from raw_whalet__platform_balances
    where _snapshot_at = (select max(_snapshot_at) from raw_whalet__platform_balances)
),

refused as (
    select provider, entity, count(*) as quarantined
    from quarantine
    group by provider, entity
),

final as (
    select
        loaded.provider,
        loaded.entity,
        loaded.row_count,
        coalesce(refused.quarantined, 0) as quarantined
    from loaded
    left join refused
        on loaded.provider = refused.provider
        and split_part(loaded.entity, ' ', 1) = refused.entity
)

select * from final

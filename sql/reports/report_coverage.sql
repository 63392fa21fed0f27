-- What the checks vouch for per provider, account and currency over every loaded day: fct_coverage's days added up (exact sums; the report and the app turn them into shares).
-- Grain: one row per (provider, account_id, currency) with loaded ledger entries.
with coverage as (
    select * from fct_coverage
),

final as (
    select
        provider,
        account_id,
        currency,
        count(*) as days,
        min(day) as first_day,
        max(day) as last_day,
        sum(entries)::bigint as entries,
        sum(volume) as volume,
        sum(chain_verified_entries)::bigint as chain_verified_entries,
        sum(chain_verified_volume) as chain_verified_volume,
        sum(fx_verified_entries)::bigint as fx_verified_entries,
        sum(fx_verified_volume) as fx_verified_volume,
        sum(order_verified_entries)::bigint as order_verified_entries,
        sum(order_verified_volume) as order_verified_volume,
        count(*) filter (where windows_complete) as complete_days,
        max(hours_to_landing) as max_hours_to_landing
    from coverage
    group by provider, account_id, currency
)

select * from final
order by provider, account_id, currency

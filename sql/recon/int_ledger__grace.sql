-- The loaded span of ledger time and the grace period: a finding within the period of either edge may still be resolved by rows not loaded yet.
-- Grain: one row.
with entries as (
    select * from stg_openapi__transactions
),

settings as (
    select * from recon_settings
),

span as (
    select min(_window_start) as loaded_from, max(_window_end) as loaded_to from entries
),

period as (
    select to_seconds(cast(value as bigint)) as grace_period
    from settings
    where setting = 'grace_seconds' and currency is null
),

final as (
    select
        span.loaded_from,
        span.loaded_to,
        period.grace_period,
        span.loaded_from + period.grace_period as settled_from,
        span.loaded_to - period.grace_period as settled_until
    from span
    cross join period
)

select * from final

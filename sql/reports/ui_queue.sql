-- The triage app's queue: every open or pending break with what the app filters and sorts on; the workflow state is added from the workflow store.
-- Grain: one row per break_id with status open or pending.
with breaks as (
    select * from fct_breaks
),

checks as (
    select * from recon_checks
),

publication as (
    select * from recon_publication
),

final as (
    select
        breaks.break_id,
        breaks.status,
        breaks.check_name,
        breaks.severity,
        breaks.provider,
        cast(breaks.account_id as varchar) as account_id,
        breaks.entity_type,
        cast(breaks.entity_id as varchar) as entity_id,
        breaks.transaction_id,
        breaks.currency,
        breaks.expected,
        breaks.actual,
        breaks.difference,
        checks.difference_unit,
        breaks.detail,
        breaks.first_seen_at,
        breaks.opened_at,
        -- A pending break has no opening yet: its age counts from when it was first found.
        coalesce(
            breaks.age_days,
            date_diff('day', breaks.first_seen_at, (select max(run_at) from publication))
        ) as age_days
    from breaks
    inner join checks on breaks.check_name = checks.check_name
    where breaks.status in ('open', 'pending')
)

select * from final
order by break_id

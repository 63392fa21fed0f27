-- The breaks alerts may speak of: every open or resolved break of the published snapshot, with the unit of its difference and its workflow status (an explained open break is not news).
-- Grain: one row per break_id (pending breaks, inside the grace period, are never announced).
with breaks as (
    select * from fct_breaks
),

checks as (
    select * from recon_checks
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
        breaks.entity_id,
        breaks.currency,
        breaks.difference,
        checks.difference_unit,
        breaks.detail,
        breaks.opened_at,
        breaks.resolved_at,
        breaks.workflow_status
    from breaks
    inner join checks on breaks.check_name = checks.check_name
    where breaks.status in ('open', 'resolved')
)

select * from final
order by break_id

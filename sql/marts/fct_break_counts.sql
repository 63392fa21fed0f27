-- How many breaks each check had after every reconcile run: open, pending and resolved, and what changed in that run; the history behind "open breaks over time".
-- Grain: one row per reconcile run (run_at) and check_name, every check every run (zeros included). Rows of earlier runs are kept.
with previous as (
    select * from fct_break_counts
),

checks as (
    select * from recon_checks
),

breaks as (
    select * from fct_breaks
),

this_run as (
    select
        cast($run_at as timestamp) as run_at,
        checks.check_name,
        checks.severity,
        count(breaks.break_id) filter (where breaks.status = 'open') as open_breaks,
        count(breaks.break_id) filter (where breaks.status = 'pending') as pending_breaks,
        count(breaks.break_id) filter (where breaks.status = 'resolved') as resolved_breaks,
        count(breaks.break_id) filter (
            where breaks.status = 'open' and breaks.opened_at = $run_at
        ) as opened_in_run,
        count(breaks.break_id) filter (
            where breaks.status = 'resolved' and breaks.resolved_at = $run_at
        ) as resolved_in_run
    from checks
    left join breaks on checks.check_name = breaks.check_name
    group by all
),

earlier_runs as (
    -- A run repeated within the same second replaces its own rows rather than doubling them.
    select * from previous
    where run_at <> $run_at
),

final as (
    select * from earlier_runs
    union all by name
    select * from this_run
)

select * from final
order by run_at, check_name

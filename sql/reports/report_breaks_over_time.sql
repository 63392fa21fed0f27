-- Open, pending and resolved breaks after every reconcile run, all checks together; the points of the "open breaks over time" chart.
-- Grain: one row per reconcile run (run_at, UTC).
with counts as (
    select * from fct_break_counts
),

final as (
    select
        run_at,
        cast(sum(open_breaks) as bigint) as open_breaks,
        cast(sum(pending_breaks) as bigint) as pending_breaks,
        cast(sum(resolved_breaks) as bigint) as resolved_breaks,
        cast(sum(opened_in_run) as bigint) as opened_in_run,
        cast(sum(resolved_in_run) as bigint) as resolved_in_run
    from counts
    group by run_at
)

select * from final
order by run_at

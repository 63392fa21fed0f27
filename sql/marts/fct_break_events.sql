-- Every change in the life of a break as runs saw it: opened, pending, resolved, reopened, its numbers changed, or a pending finding withdrawn (its late data came in time); both openings of a reopened break stay visible. Analysts' actions are added after the run (store.break_workflow).
-- Grain: one row per break_id and change (event_at, event). Rows of earlier runs are kept; a run adds the changes it made.
with previous as (
    select * from fct_break_events
),

breaks as (
    select * from fct_breaks
),

earlier_runs as (
    -- A run repeated within the same second replaces its own rows rather than doubling them.
    select * from previous
    where event_at <> $run_at
),

last_known as (
    select
        break_id,
        arg_max(status, event_at) as status,
        arg_max(expected, event_at) as expected,
        arg_max(actual, event_at) as actual,
        arg_max(difference, event_at) as difference
    from earlier_runs
    -- What people did (acknowledged, explained, ...) says nothing of what a run saw.
    where actor = 'run'
    group by break_id
),

compared as (
    select
        breaks.break_id,
        breaks.status,
        breaks.expected,
        breaks.actual,
        breaks.difference,
        breaks.detail,
        case
            when coalesce(last_known.status, 'withdrawn') = 'withdrawn'
                then case breaks.status when 'pending' then 'pending' when 'open' then 'opened' end
            when last_known.status = 'pending' and breaks.status = 'open' then 'opened'
            when last_known.status = 'resolved' and breaks.status = 'open' then 'reopened'
            when last_known.status = 'open' and breaks.status = 'resolved' then 'resolved'
            when last_known.status = 'open' and breaks.status = 'open'
                and (breaks.expected, breaks.actual, breaks.difference)
                is distinct from (last_known.expected, last_known.actual, last_known.difference)
                then 'amount_changed'
        end as event
    from breaks
    left join last_known on breaks.break_id = last_known.break_id
),

withdrawn as (
    -- fct_breaks keeps no pending finding that went away: the event log says where it went.
    select
        last_known.break_id,
        'withdrawn' as status,
        cast(null as decimal(38, 8)) as expected,
        cast(null as decimal(38, 8)) as actual,
        cast(null as decimal(38, 8)) as difference,
        'The finding was inside the grace period and its late data arrived in time.' as detail,
        'withdrawn' as event
    from last_known
    anti join breaks on last_known.break_id = breaks.break_id
    where last_known.status = 'pending'
),

this_run as (
    select
        break_id,
        cast($run_at as timestamp) as event_at,
        event,
        status,
        expected,
        actual,
        difference,
        detail,
        'run' as actor
    from (
        select * from compared where event is not null
        union all by name
        select * from withdrawn
    )
),

final as (
    select * from earlier_runs
    union all by name
    select * from this_run
)

select * from final
order by event_at, break_id

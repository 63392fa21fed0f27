-- Every break ever found and its life across runs: first and last seen, open, pending (inside the grace period) or resolved, how often it opened and how old its current opening is.
-- Grain: one row per break_id. Rows are never deleted; a finding a later run no longer sees is resolved.
with found as (
    select * from int_breaks__found
),

previous as (
    select * from fct_breaks
),

seen as (
    select
        found.* exclude (is_pending),
        case
            -- Inside the grace period a finding waits, unless it was already an open break.
            when found.is_pending and coalesce(previous.status, 'pending') = 'pending'
                then 'pending'
            else 'open'
        end as status,
        coalesce(previous.first_seen_at, $run_at) as first_seen_at,
        $run_at as last_seen_at,
        previous.opened_at as previous_opened_at,
        previous.status as previous_status,
        coalesce(previous.opened_count, 0) as previous_opened_count
    from found
    left join previous on found.break_id = previous.break_id
),

still_found as (
    select
        * exclude (previous_opened_at, previous_status, previous_opened_count),
        case
            when status = 'pending' then null
            when previous_status = 'open' then previous_opened_at
            else $run_at
        end as opened_at,
        cast(null as timestamp) as resolved_at,
        -- A break that was resolved and is found again opens anew: each opening is counted.
        previous_opened_count
        + case when status = 'open' and previous_status is distinct from 'open' then 1 else 0 end
            as opened_count
    from seen
),

no_longer_found as (
    -- An open break that is gone is resolved and kept. A pending finding that is gone never
    -- became a break (its late data arrived in time), so it is not kept.
    select
        previous.* replace (
            'resolved' as status,
            coalesce(previous.resolved_at, $run_at) as resolved_at
        )
    from previous
    anti join found on previous.break_id = found.break_id
    where previous.status in ('open', 'resolved')
),

with_age as (
    select * from still_found
    union all by name
    select * from no_longer_found
),

final as (
    select
        * exclude (age_days),
        case
            when status = 'open' then date_diff('day', opened_at, cast($run_at as timestamp))
        end as age_days
    from with_age
)

select * from final

-- Every break ever found and its life across runs: first and last seen, open, pending (inside the grace period) or resolved.
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
        previous.status as previous_status
    from found
    left join previous on found.break_id = previous.break_id
),

still_found as (
    select
        * exclude (previous_opened_at, previous_status),
        case
            when status = 'pending' then null
            when previous_status = 'open' then previous_opened_at
            else $run_at
        end as opened_at,
        cast(null as timestamp) as resolved_at
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

final as (
    select * from still_found
    union all by name
    select * from no_longer_found
)

select * from final

-- Breaks per check, provider and day, by status; the day is report_break_entries.report_day (the day the break's data is about).
-- Grain: one row per (check_name, provider, report_day) that has any break. Reads the temp view report_break_entries.
with breaks as (
    select * from report_break_entries
),

final as (
    select
        check_name,
        provider,
        report_day,
        count(*) filter (where status = 'open') as open_breaks,
        count(*) filter (where status = 'pending') as pending_breaks,
        count(*) filter (where status = 'resolved') as resolved_breaks,
        count(*) as breaks
    from breaks
    group by check_name, provider, report_day
)

select * from final
order by check_name, provider, report_day

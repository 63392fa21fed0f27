-- Breaks per check and provider after the latest run: counts by status and open amounts per currency.
-- Grain: one row per (check_name, provider) that has any break.
with breaks as (
    select * from fct_breaks
),

checks as (
    select * from recon_checks
),

per_currency as (
    select
        breaks.check_name,
        breaks.provider,
        breaks.currency,
        checks.difference_unit,
        sum(abs(breaks.difference)) filter (
            where breaks.status = 'open' and checks.difference_unit in ('money', 'minor')
        ) as open_amount
    from breaks
    inner join checks on breaks.check_name = checks.check_name
    group by all
),

amounts as (
    select
        check_name,
        provider,
        string_agg(
            case difference_unit
                when 'minor' then currency || ' ' || cast(open_amount as bigint)::varchar || ' cents'
                else currency || ' ' || cast(open_amount as decimal(38, 2))::varchar
            end,
            ', ' order by currency
        ) filter (where open_amount is not null) as open_amounts
    from per_currency
    group by all
),

counts as (
    select
        check_name,
        provider,
        any_value(severity) as severity,
        count(*) filter (where status = 'open') as open_breaks,
        count(*) filter (where status = 'pending') as pending,
        count(*) filter (where status = 'resolved') as resolved
    from breaks
    group by all
),

final as (
    select
        counts.check_name,
        counts.provider,
        counts.severity,
        counts.open_breaks,
        counts.pending,
        counts.resolved,
        coalesce(amounts.open_amounts, '') as open_amounts
    from counts
    left join amounts
        on counts.check_name = amounts.check_name and counts.provider = amounts.provider
    order by counts.severity, counts.check_name, counts.provider
)

select * from final

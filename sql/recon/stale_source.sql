-- Ledger sources that went quiet: an account whose newest closed day window came back empty after windows with rows, or whose newest entry is older than the staleness limit at that window's end.
-- Grain: one row per stale source (provider, account_id) of ledger entries.
with windows as (
    select * from landed_windows
),

entries as (
    select * from fct_ledger_entries
),

settings as (
    select * from recon_settings
),

limit_hours as (
    select cast(value as decimal(38, 8)) as stale_hours
    from settings
    where setting = 'stale_hours' and currency is null
),

ledger_windows as (
    -- The ledger's windows that had ended on the provider's clock when they were read: an
    -- open day (an intraday run) may rightly be empty so far.
    select *
    from windows
    where entity in ('transactions', 'balance_records') and window_end <= fetched_at
),

newest as (
    select
        provider,
        account_id,
        arg_max(window_start, window_start) as window_start,
        arg_max(window_end, window_start) as window_end,
        arg_max(api_total, window_start) as newest_total,
        arg_max(source_file, window_start) as source_file,
        count(*) filter (where api_total > 0) as windows_with_rows
    from ledger_windows
    group by all
),

last_entry as (
    select provider, account_id, max(transaction_time) as newest_entry_at
    from entries
    group by all
),

aged as (
    select
        newest.*,
        last_entry.newest_entry_at,
        limit_hours.stale_hours,
        cast(
            date_diff('second', last_entry.newest_entry_at, newest.window_end) / 3600
            as decimal(38, 8)
        ) as age_hours
    from newest
    cross join limit_hours
    left join last_entry
        on last_entry.provider = newest.provider
        and last_entry.account_id = newest.account_id
),

stale as (
    select
        *,
        newest_total = 0 and windows_with_rows > 0 as went_empty,
        age_hours > stale_hours as too_old
    from aged
    where newest_entry_at is not null
),

final as (
    select
        'stale_source' as check_name,
        provider,
        account_id,
        'account' as entity_type,
        account_id as entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        cast(null as varchar) as currency,
        stale_hours as expected,
        age_hours as actual,
        cast(age_hours - stale_hours as decimal(38, 8)) as difference,
        format(
            '{} {} {}; its newest ledger entry, at {}, is {} hours older than the end of '
            || 'its newest landed day {} (limit {} hours).',
            provider, account_id,
            case
                when went_empty then 'returned no ledger rows for the day ' || strftime(window_start, '%Y-%m-%d') || ' although earlier days had rows'
                else 'has sent no new ledger rows'
            end,
            strftime(newest_entry_at, '%Y-%m-%d %H:%M:%S'),
            round(age_hours, 1)::varchar,
            strftime(window_start, '%Y-%m-%d'),
            round(stale_hours, 1)::varchar
        ) as detail,
        false as is_pending,
        'ledger' as break_key,
        source_file,
        window_start,
        window_end
    from stale
    where went_empty or too_old
)

select * from final

-- How much of the loaded ledger the checks vouch for: entries and volume loaded, and the part verified by a chain link, an exchange pairing or an order match; whether the day's windows landed complete, and how long after the day's end.
-- Grain: one row per provider, account_id, currency and calendar day (provider clock) with at least one loaded ledger entry.
with entries as (
    select * from fct_ledger_entries
),

unlinked as (
    select * from int_ledger__unlinked
),

exchanges as (
    select * from int_exchanges__paired
),

fx_findings as (
    select * from fx_amount_mismatch
),

orders as (
    select * from int_orders__debits
),

openapi_entries as (
    select * from stg_openapi__transactions
),

windows as (
    select * from landed_windows
),

window_findings as (
    select * from incomplete_window
),

unlinked_keys as (
    -- The ends of the stretches of chain: an entry that is none of them is linked on both
    -- sides. A wallet's first and last loaded entries have a neighbour missing, so they are
    -- ends too, not verified yet.
    select distinct provider, account_id, wallet_key, transaction_id, in_out_type
    from unlinked
),

fx_paired as (
    -- Both legs of an exchange whose bought amount the applied rate explains: one expense and
    -- one income leg in two currencies, with no fx_amount_mismatch finding (open or pending).
    select exchanges.provider, exchanges.account_id, exchanges.transaction_id
    from exchanges
    anti join fx_findings
        on exchanges.provider = fx_findings.provider
        and exchanges.account_id = fx_findings.account_id
        and exchanges.transaction_id = fx_findings.transaction_id
    where exchanges.is_complete and exchanges.applied_rate is not null
),

order_matched as (
    -- Entries booked for a successful card order whose entries move exactly what it should.
    select
        openapi_entries.provider,
        openapi_entries.account_id,
        openapi_entries.transaction_id,
        openapi_entries.in_out_type,
        openapi_entries.currency
    from openapi_entries
    inner join orders
        on openapi_entries.provider = orders.provider
        and openapi_entries.account_id = orders.account_id
        and openapi_entries.record_id = orders.order_id
    where orders.expected_signed_amount <> 0
        and orders.booked_signed_amount = orders.expected_signed_amount
),

verified as (
    select
        entries.provider,
        entries.account_id,
        entries.currency,
        cast(entries.transaction_time as date) as day,
        entries.amount,
        unlinked_keys.transaction_id is null as is_chain_verified,
        fx_paired.transaction_id is not null as is_fx_verified,
        order_matched.transaction_id is not null as is_order_verified
    from entries
    left join unlinked_keys
        on entries.provider = unlinked_keys.provider
        and entries.account_id = unlinked_keys.account_id
        and entries.wallet_key = unlinked_keys.wallet_key
        and entries.transaction_id = unlinked_keys.transaction_id
        and entries.in_out_type = unlinked_keys.in_out_type
    left join fx_paired
        on entries.provider = fx_paired.provider
        and entries.account_id = fx_paired.account_id
        and entries.transaction_id = fx_paired.transaction_id
    left join order_matched
        on entries.provider = order_matched.provider
        and entries.account_id = order_matched.account_id
        and entries.transaction_id = order_matched.transaction_id
        and entries.in_out_type = order_matched.in_out_type
        and entries.currency = order_matched.currency
),

per_day as (
    select
        provider,
        account_id,
        currency,
        day,
        count(*) as entries,
        cast(sum(amount) as decimal(38, 8)) as volume,
        count(*) filter (where is_chain_verified) as chain_verified_entries,
        cast(coalesce(sum(amount) filter (where is_chain_verified), 0) as decimal(38, 8))
            as chain_verified_volume,
        count(*) filter (where is_fx_verified) as fx_verified_entries,
        cast(coalesce(sum(amount) filter (where is_fx_verified), 0) as decimal(38, 8))
            as fx_verified_volume,
        count(*) filter (where is_order_verified) as order_verified_entries,
        cast(coalesce(sum(amount) filter (where is_order_verified), 0) as decimal(38, 8))
            as order_verified_volume
    from verified
    group by provider, account_id, currency, day
),

day_windows as (
    -- Every windowed entity the provider lands for the account that day (ledger, and for
    -- OPEN-API card trades and orders); complete when incomplete_window finds none of them.
    select
        windows.provider,
        windows.account_id,
        cast(windows.window_start as date) as day,
        count(*) as windows_landed,
        count(window_findings.entity_id) as windows_incomplete,
        max(windows.fetched_at) filter (where windows.entity in ('transactions', 'balance_records'))
            as ledger_landed_at,
        max(windows.window_end) filter (where windows.entity in ('transactions', 'balance_records'))
            as ledger_window_end
    from windows
    left join window_findings
        on windows.provider = window_findings.provider
        and windows.account_id = window_findings.account_id
        and windows.window_start = window_findings.window_start
        and windows.entity = split_part(window_findings.entity_id, ':', 1)
    group by windows.provider, windows.account_id, cast(windows.window_start as date)
),

final as (
    -- Shares are fractions of the day's entries and volume, four places, rounded half up in
    -- integer arithmetic (volumes in units of 10^-8, exact for every currency's places):
    -- DuckDB divides DECIMALs through floating point.
    select
        per_day.provider,
        per_day.account_id,
        per_day.currency,
        per_day.day,
        per_day.entries,
        per_day.volume,
        per_day.chain_verified_entries,
        per_day.chain_verified_volume,
        cast((20000 * per_day.chain_verified_entries + per_day.entries)
            // (2 * per_day.entries) as decimal(18, 0)) * 0.0001 as chain_verified_entries_share,
        cast((20000 * cast(per_day.chain_verified_volume * 100000000 as hugeint)
            + cast(per_day.volume * 100000000 as hugeint))
            // nullif(2 * cast(per_day.volume * 100000000 as hugeint), 0) as decimal(18, 0)) * 0.0001
            as chain_verified_volume_share,
        per_day.fx_verified_entries,
        per_day.fx_verified_volume,
        cast((20000 * per_day.fx_verified_entries + per_day.entries)
            // (2 * per_day.entries) as decimal(18, 0)) * 0.0001 as fx_verified_entries_share,
        cast((20000 * cast(per_day.fx_verified_volume * 100000000 as hugeint)
            + cast(per_day.volume * 100000000 as hugeint))
            // nullif(2 * cast(per_day.volume * 100000000 as hugeint), 0) as decimal(18, 0)) * 0.0001
            as fx_verified_volume_share,
        per_day.order_verified_entries,
        per_day.order_verified_volume,
        cast((20000 * per_day.order_verified_entries + per_day.entries)
            // (2 * per_day.entries) as decimal(18, 0)) * 0.0001 as order_verified_entries_share,
        cast((20000 * cast(per_day.order_verified_volume * 100000000 as hugeint)
            + cast(per_day.volume * 100000000 as hugeint))
            // nullif(2 * cast(per_day.volume * 100000000 as hugeint), 0) as decimal(18, 0)) * 0.0001
            as order_verified_volume_share,
        coalesce(day_windows.windows_landed, 0) as windows_landed,
        coalesce(day_windows.windows_incomplete, 0) as windows_incomplete,
        coalesce(day_windows.windows_landed > 0 and day_windows.windows_incomplete = 0, false)
            as windows_complete,
        day_windows.ledger_landed_at,
        -- Whole hundredths of an hour, counted down: 36 seconds each.
        cast(date_diff('second', day_windows.ledger_window_end, day_windows.ledger_landed_at)
            // 36 as decimal(18, 0)) * 0.01 as hours_to_landing
    from per_day
    left join day_windows
        on per_day.provider = day_windows.provider
        and per_day.account_id = day_windows.account_id
        and per_day.day = day_windows.day
)

select * from final

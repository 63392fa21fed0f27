-- Each break with the ledger wallet it concerns, the entry to mark on that wallet's balance chart, and the day it is counted under in the report.
-- Grain: one row per break_id; the wallet and entry columns are null for breaks about no ledger wallet (cards, orders with no entry, JT totals, Whalet money).
with breaks as (
    select * from fct_breaks
),

entries as (
    select * from fct_ledger_entries
),

wallets as (
    select
        provider,
        account_id,
        wallet_key,
        any_value(wallet_name) as wallet_name,
        any_value(currency) as currency
    from entries
    group by provider, account_id, wallet_key
),

wallet_level as (
    -- chain_gap and wallet_balance_mismatch name the wallet itself; a JT user is a JT wallet.
    select
        breaks.break_id,
        wallets.provider,
        wallets.account_id,
        wallets.wallet_key
    from breaks
    inner join wallets
        on breaks.provider = wallets.provider
        and breaks.account_id = wallets.account_id
        and breaks.entity_id = wallets.wallet_key
    where breaks.entity_type in ('wallet', 'user')
),

entry_level as (
    -- Entries, exchanges and booked orders name a transaction. The two legs of an exchange
    -- share it, so the leg in the break's currency wins; a missing leg's break falls back
    -- to the leg that is there.
    select
        breaks.break_id,
        entries.provider,
        entries.account_id,
        entries.wallet_key
    from breaks
    inner join entries
        on breaks.provider = entries.provider
        and breaks.account_id = entries.account_id
        and breaks.transaction_id = entries.transaction_id
    where breaks.entity_type not in ('wallet', 'user')
    qualify row_number() over (
        partition by breaks.break_id
        order by coalesce(entries.currency = breaks.currency, false) desc, entries.in_out_type
    ) = 1
),

located as (
    select * from wallet_level
    union all
    select * from entry_level
),

marked as (
    -- The entry the break names, in its wallet; a wallet break naming none (a JT user's
    -- balance composition) is marked at the chain's last entry, the balance it is about.
    select
        located.break_id,
        located.provider,
        located.account_id,
        located.wallet_key,
        entries.transaction_id as marked_transaction_id,
        entries.in_out_type as marked_in_out_type,
        entries.transaction_time as marked_at,
        entries.after_balance as marked_balance,
        coalesce(entries.transaction_id = breaks.transaction_id, false) as is_named_entry
    from located
    inner join breaks on located.break_id = breaks.break_id
    inner join entries
        on located.provider = entries.provider
        and located.account_id = entries.account_id
        and located.wallet_key = entries.wallet_key
    qualify row_number() over (
        partition by located.break_id
        order by
            is_named_entry desc,
            entries.transaction_time desc,
            entries.created_at desc,
            entries.transaction_id desc,
            entries.in_out_type desc
    ) = 1
),

final as (
    select
        breaks.break_id,
        breaks.check_name,
        breaks.severity,
        breaks.status,
        breaks.provider,
        breaks.account_id,
        breaks.entity_type,
        breaks.entity_id,
        breaks.transaction_id,
        breaks.currency,
        breaks.expected,
        breaks.actual,
        breaks.difference,
        breaks.detail,
        marked.wallet_key,
        wallets.wallet_name,
        wallets.currency as wallet_currency,
        marked.marked_transaction_id,
        marked.marked_in_out_type,
        marked.marked_at,
        marked.marked_balance,
        -- The day the data is about: the named entry's booking day (provider clock), else the
        -- day the finding's data window starts, else the day a run first found it (UTC).
        cast(coalesce(
            case when marked.is_named_entry then marked.marked_at end,
            breaks.window_start,
            breaks.first_seen_at
        ) as date) as report_day
    from breaks
    left join marked on breaks.break_id = marked.break_id
    left join wallets
        on marked.provider = wallets.provider
        and marked.account_id = wallets.account_id
        and marked.wallet_key = wallets.wallet_key
)

select * from final

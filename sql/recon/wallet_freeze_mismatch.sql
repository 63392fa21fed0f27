-- Frozen OPEN-API wallets whose ledger moved while they were frozen, and wallets reporting a negative freeze_balance.
-- Grain: one row per wallet (provider, account_id, wallet_key) and finding (moved while frozen, negative freeze_balance).
with wallets as (
    select * from stg_openapi__wallets
),

entries as (
    select * from fct_ledger_entries
),

readings as (
    select
        provider,
        account_id,
        account_id || ':' || currency as wallet_key,
        currency,
        status,
        available_balance,
        freeze_balance,
        snapshot_at,
        _source_file,
        lag(status) over by_time as previous_status,
        lag(snapshot_at) over by_time as previous_snapshot_at,
        lag(available_balance) over by_time as previous_available_balance,
        -- Readings of one freeze share a number: the count of non-frozen readings before.
        sum(case when status = 2 then 0 else 1 end) over by_time as freeze_no
    from wallets
    window by_time as (partition by provider, account_id, currency order by snapshot_at)
),

frozen_spans as (
    -- The wallet list carries no freeze time: a wallet is known frozen only from a reading
    -- that says so to the next reading that still says so. Between its last normal reading
    -- and its first frozen one the freeze may have come at any moment, so entries there are
    -- no finding; nor are entries after its latest reading (it may have been unfrozen since).
    select
        provider,
        account_id,
        wallet_key,
        currency,
        previous_snapshot_at as frozen_from,
        snapshot_at as frozen_through,
        previous_available_balance as balance_frozen,
        freeze_no
    from readings
    where status = 2 and previous_status = 2
),

moved as (
    select
        frozen_spans.provider,
        frozen_spans.account_id,
        frozen_spans.wallet_key,
        frozen_spans.currency,
        frozen_spans.freeze_no,
        min(frozen_spans.frozen_from) as frozen_from,
        max(frozen_spans.frozen_through) as frozen_through,
        arg_min(frozen_spans.balance_frozen, frozen_spans.frozen_from) as balance_frozen,
        count(*) as moves,
        arg_min(
            entries.transaction_id, (entries.transaction_time, entries.created_at)
        ) as first_move,
        arg_max(entries.after_balance, (entries.transaction_time, entries.created_at))
            as balance_after,
        arg_max(entries._source_file, entries.transaction_time) as _source_file
    from frozen_spans
    inner join entries
        on frozen_spans.provider = entries.provider
        and frozen_spans.account_id = entries.account_id
        and frozen_spans.wallet_key = entries.wallet_key
        and entries.transaction_time > frozen_spans.frozen_from
        and entries.transaction_time <= frozen_spans.frozen_through
    group by
        frozen_spans.provider,
        frozen_spans.account_id,
        frozen_spans.wallet_key,
        frozen_spans.currency,
        frozen_spans.freeze_no
    -- One finding per wallet: its latest freeze in which the ledger moved (a freeze and the
    -- next one are never taken together: the wallet was normal in between).
    qualify row_number() over (
        partition by frozen_spans.provider, frozen_spans.account_id, frozen_spans.wallet_key
        order by min(frozen_spans.frozen_from) desc
    ) = 1
),

negative as (
    -- Held (frozen) funds cannot be below zero, whatever the wallet's status; the latest
    -- reading counts, so a corrected freeze_balance resolves the finding.
    select *
    from readings
    qualify row_number() over (
        partition by provider, account_id, wallet_key order by snapshot_at desc
    ) = 1
        and freeze_balance < 0
),

final as (
    select
        'wallet_freeze_mismatch' as check_name,
        provider,
        account_id,
        'wallet' as entity_type,
        wallet_key as entity_id,
        first_move as transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(balance_frozen as decimal(38, 8)) as expected,
        cast(balance_after as decimal(38, 8)) as actual,
        cast(balance_after - balance_frozen as decimal(38, 8)) as difference,
        format(
            'Wallet {} {} was reported frozen at {} and still at {}, yet its ledger moved '
            || '{} time(s) in between, from entry {} on: the balance went from {} to {}.',
            account_id, currency, strftime(frozen_from, '%Y-%m-%d %H:%M:%S'),
            strftime(frozen_through, '%Y-%m-%d %H:%M:%S'), moves, first_move,
            balance_frozen::varchar, balance_after::varchar
        ) as detail,
        false as is_pending,
        currency || ':moved_while_frozen' as break_key,
        _source_file as source_file,
        frozen_from as window_start,
        frozen_through as window_end
    from moved
    union all
    select
        'wallet_freeze_mismatch' as check_name,
        provider,
        account_id,
        'wallet' as entity_type,
        wallet_key as entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(0 as decimal(38, 8)) as expected,
        cast(freeze_balance as decimal(38, 8)) as actual,
        cast(freeze_balance as decimal(38, 8)) as difference,
        format(
            'Wallet {} {} reports a negative freeze_balance of {} at {}: funds held cannot '
            || 'be below zero.',
            account_id, currency, freeze_balance::varchar,
            strftime(snapshot_at, '%Y-%m-%d %H:%M:%S')
        ) as detail,
        false as is_pending,
        currency || ':negative_freeze_balance' as break_key,
        _source_file as source_file,
        snapshot_at as window_start,
        snapshot_at as window_end
    from negative
)

select * from final

-- Wallets whose reported balance (OPEN-API reported_balance, JT user balance) differs from their ledger chain at the snapshot, where the chain is known complete.
-- Grain: one row per wallet (provider, account_id, wallet_key), from its latest comparable snapshot.
with wallets as (
    select * from int_wallets__reported
),

entries as (
    select * from fct_ledger_entries
),

comparable as (
    -- Only snapshots read together with the ledger tail say how far the chain is complete;
    -- without that a difference may be entries not loaded yet, not a break.
    select *
    from wallets
    where chain_complete_through is not null
    qualify row_number() over (
        partition by provider, account_id, wallet_key order by snapshot_at desc
    ) = 1
),

chain_as_of as (
    select
        comparable.provider,
        comparable.account_id,
        comparable.wallet_key,
        entries.transaction_id,
        entries.in_out_type,
        entries.transaction_time,
        entries.created_at,
        entries.before_balance,
        entries.after_balance,
        entries._source_file,
        entries._window_start,
        entries._window_end
    from comparable
    inner join entries
        on comparable.provider = entries.provider
        and comparable.account_id = entries.account_id
        and comparable.wallet_key = entries.wallet_key
        and entries.transaction_time <= comparable.chain_complete_through
),

last_second as (
    -- The chain's latest entries; several may share the last second.
    select *
    from chain_as_of
    qualify rank() over (
        partition by provider, account_id, wallet_key
        order by transaction_time desc
    ) = 1
),

chain_end as (
    -- Of entries sharing the last second, the chain ends at the one no other continues from.
    select last_second.*
    from last_second
    where not exists (
        select 1
        from last_second as other
        where other.provider = last_second.provider
            and other.account_id = last_second.account_id
            and other.wallet_key = last_second.wallet_key
            and other.before_balance = last_second.after_balance
            and not (
                other.transaction_id = last_second.transaction_id
                and other.in_out_type = last_second.in_out_type
            )
    )
    qualify row_number() over (
        partition by provider, account_id, wallet_key order by transaction_id, in_out_type
    ) = 1
),

final as (
    select
        'wallet_balance_mismatch' as check_name,
        comparable.provider,
        comparable.account_id,
        'wallet' as entity_type,
        comparable.wallet_key as entity_id,
        chain_end.transaction_id,
        cast(null as varchar) as related_transaction_id,
        comparable.currency,
        cast(chain_end.after_balance as decimal(38, 8)) as expected,
        cast(comparable.reported_balance as decimal(38, 8)) as actual,
        cast(comparable.reported_balance - chain_end.after_balance as decimal(38, 8))
            as difference,
        format(
            'The provider reports {} {} {} at {}, but the ledger ends at {} '
            || '(after entry {}).',
            comparable.reported_balance::varchar, comparable.currency, comparable.reported_as,
            strftime(comparable.snapshot_at, '%Y-%m-%d %H:%M:%S'),
            chain_end.after_balance::varchar, chain_end.transaction_id
        ) as detail,
        false as is_pending,
        comparable.currency as break_key,
        comparable._source_file as source_file,
        comparable.tail_from as window_start,
        comparable.snapshot_at as window_end
    from comparable
    inner join chain_end
        on comparable.provider = chain_end.provider
        and comparable.account_id = chain_end.account_id
        and comparable.wallet_key = chain_end.wallet_key
    where comparable.reported_balance <> chain_end.after_balance
)

select * from final

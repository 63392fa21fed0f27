-- Breaks in wallet balance chains: an entry whose before_balance is not the after_balance of the entry before it.
-- Grain: one row per gap (wallet, the entry before the gap, the entry after it), over every provider's ledger.
with entries as not materialized (
    -- Read twice (both neighbours of each gap at the end): not materialized, or DuckDB would
    -- first copy every column of the whole ledger.
    select * from fct_ledger_entries
),

unlinked as (
    -- The ends of each stretch of linked chain; how they are found (the pairing of
    -- balances): int_ledger__unlinked and docs/checks.md, "How the chain check is computed".
    select * from int_ledger__unlinked
),

segment_starts as (
    -- An entry whose ask is unmet starts a stretch of chain; the first starts the wallet's.
    select
        provider, account_id, wallet_key, transaction_id, in_out_type,
        row_number() over (
            partition by provider, account_id, wallet_key
            order by transaction_time, created_at, transaction_id, in_out_type
        ) as segment_no
    from unlinked
    where side = 'starts'
),

segment_ends as (
    -- An entry whose offer is untaken ends a stretch; the last ends the wallet's.
    select
        provider, account_id, wallet_key, transaction_id, in_out_type,
        row_number() over (
            partition by provider, account_id, wallet_key
            order by transaction_time, created_at, transaction_id, in_out_type
        ) as segment_no
    from unlinked
    where side = 'ends'
),

gaps as (
    -- The first segment starts the wallet's loaded chain (no gap); segment n+1 follows the
    -- end of segment n.
    select
        starts.provider,
        starts.account_id,
        starts.wallet_key,
        ends.transaction_id as previous_transaction_id,
        ends.in_out_type as previous_in_out_type,
        starts.transaction_id,
        starts.in_out_type
    from segment_starts as starts
    inner join segment_ends as ends
        on starts.provider = ends.provider
        and starts.account_id = ends.account_id
        and starts.wallet_key = ends.wallet_key
        and starts.segment_no = ends.segment_no + 1
),

final as (
    select
        'chain_gap' as check_name,
        gaps.provider,
        gaps.account_id,
        'wallet' as entity_type,
        gaps.wallet_key as entity_id,
        gaps.transaction_id,
        gaps.previous_transaction_id as related_transaction_id,
        nxt.currency,
        cast(prev.after_balance as decimal(38, 8)) as expected,
        cast(nxt.before_balance as decimal(38, 8)) as actual,
        cast(nxt.before_balance - prev.after_balance as decimal(38, 8)) as difference,
        format(
            'The {} wallet''s balance jumps from {} after entry {} to {} before entry {}: '
            || '{} of movement is not in the ledger.',
            nxt.wallet_name, prev.after_balance::varchar, gaps.previous_transaction_id,
            nxt.before_balance::varchar, gaps.transaction_id,
            (nxt.before_balance - prev.after_balance)::varchar
        ) as detail,
        false as is_pending,
        gaps.previous_transaction_id || '>' || gaps.transaction_id as break_key,
        nxt._source_file as source_file,
        nxt._window_start as window_start,
        nxt._window_end as window_end
    from gaps
    inner join entries as prev
        on gaps.provider = prev.provider
        and gaps.account_id = prev.account_id
        and gaps.wallet_key = prev.wallet_key
        and gaps.previous_transaction_id = prev.transaction_id
        and gaps.previous_in_out_type = prev.in_out_type
    inner join entries as nxt
        on gaps.provider = nxt.provider
        and gaps.account_id = nxt.account_id
        and gaps.wallet_key = nxt.wallet_key
        and gaps.transaction_id = nxt.transaction_id
        and gaps.in_out_type = nxt.in_out_type
)

select * from final

-- Breaks in wallet balance chains: an entry whose before_balance is not the after_balance of the entry before it.
-- Grain: one row per gap (wallet, the entry before the gap, the entry after it), over every provider's ledger.
with entries as (
    select * from fct_ledger_entries
),

balance_events as (
    -- Each entry offers its after_balance to a successor (supply) and asks for a predecessor
    -- that ended at its before_balance (demand). Chains are checked by pairing balances, so
    -- the order of entries booked in the same second never matters (reconciliation.md §4).
    select
        provider, account_id, wallet_key, transaction_id, in_out_type,
        transaction_time, created_at, after_balance as balance, 0 as is_demand
    from entries
    union all
    select
        provider, account_id, wallet_key, transaction_id, in_out_type,
        transaction_time, created_at, before_balance as balance, 1 as is_demand
    from entries
),

forward as (
    -- In time order, with supplies first among entries of the same second: a demand that
    -- finds no earlier (or same-second) unused supply of its balance has no predecessor.
    -- create_at does not order entries of one second: it may lag the booking order.
    select
        *,
        sum(case is_demand when 1 then 1 else -1 end) over w_forward as open_demands
    from balance_events
    window w_forward as (
        partition by provider, account_id, wallet_key, balance
        order by transaction_time, is_demand, transaction_id, in_out_type
        rows between unbounded preceding and current row
    )
),

forward_marked as (
    select
        *,
        coalesce(max(open_demands) over (
            partition by provider, account_id, wallet_key, balance
            order by transaction_time, is_demand, transaction_id, in_out_type
            rows between unbounded preceding and 1 preceding
        ), 0) as open_demands_before
    from forward
),

backward as (
    -- The mirror image: a supply that finds no later (or same-time) demand has no successor.
    select
        *,
        sum(case is_demand when 0 then 1 else -1 end) over w_backward as open_supplies
    from balance_events
    window w_backward as (
        partition by provider, account_id, wallet_key, balance
        order by
            transaction_time desc, is_demand desc, transaction_id desc, in_out_type desc
        rows between unbounded preceding and current row
    )
),

backward_marked as (
    select
        *,
        coalesce(max(open_supplies) over (
            partition by provider, account_id, wallet_key, balance
            order by
                transaction_time desc, is_demand desc, transaction_id desc, in_out_type desc
            rows between unbounded preceding and 1 preceding
        ), 0) as open_supplies_before
    from backward
),

segment_starts as (
    select
        provider, account_id, wallet_key, transaction_id, in_out_type,
        row_number() over (
            partition by provider, account_id, wallet_key
            order by transaction_time, created_at, transaction_id, in_out_type
        ) as segment_no
    from forward_marked
    where is_demand = 1 and open_demands > greatest(open_demands_before, 0)
),

segment_ends as (
    select
        provider, account_id, wallet_key, transaction_id, in_out_type,
        row_number() over (
            partition by provider, account_id, wallet_key
            order by transaction_time, created_at, transaction_id, in_out_type
        ) as segment_no
    from backward_marked
    where is_demand = 0 and open_supplies > greatest(open_supplies_before, 0)
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

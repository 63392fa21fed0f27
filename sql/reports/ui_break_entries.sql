-- The ledger entries around one break for the triage app: the entries it names (both legs of an exchange, the two sides of a gap, an order's wallet entry) and its wallet's chain a few entries either side of the marked entry.
-- Grain: one row per ledger entry (provider, account_id, wallet_key, transaction_id, in_out_type), in chain order.
with brk as (
    select * from fct_breaks
    where break_id = $break_id
),

located as (
    select * from report_break_entries
    where break_id = $break_id
),

entries as (
    select * from fct_ledger_entries
),

chain as (
    select
        entries.*,
        row_number() over (
            order by entries.transaction_time, entries.created_at, entries.transaction_id,
                entries.in_out_type
        ) as seq
    from entries
    inner join located
        on entries.provider = located.provider
        and entries.account_id = located.account_id
        and entries.wallet_key = located.wallet_key
),

marked as (
    select min(chain.seq) as seq
    from chain
    inner join located on chain.transaction_id = located.marked_transaction_id
),

named as (
    select entries.*
    from entries
    inner join brk
        on entries.provider = brk.provider
        and entries.account_id = brk.account_id
        and (
            entries.transaction_id = brk.transaction_id
            or entries.transaction_id = brk.related_transaction_id
        )
),

around as (
    select chain.* exclude (seq)
    from chain, marked
    where chain.seq between marked.seq - $around and marked.seq + $around
),

final as (
    select distinct
        entries.*,
        entries.transaction_id in (
            select transaction_id from named
        ) as is_named
    from (select * from around union all by name select * from named) as entries
)

select * from final
order by transaction_time, created_at, transaction_id, in_out_type

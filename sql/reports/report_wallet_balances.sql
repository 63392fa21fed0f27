-- The balance (after_balance) along the ledger chain of the top $max_wallets wallets with breaks, downsampled to about $max_points points: per bucket of entries its lowest and highest balance, plus the first, the last and every entry a break is marked at.
-- Grain: one row per kept ledger entry (provider, account_id, wallet_key, transaction_id, in_out_type). Reads the temp views report_wallets and report_break_entries.
with wallets as (
    select * from report_wallets
    where wallet_rank <= $max_wallets
),

marks as (
    select * from report_break_entries
    where marked_transaction_id is not null
),

entries as (
    select * from fct_ledger_entries
),

chain as (
    select
        wallets.wallet_rank,
        entries.provider,
        entries.account_id,
        entries.wallet_key,
        entries.transaction_id,
        entries.in_out_type,
        entries.transaction_time,
        entries.after_balance,
        row_number() over w_chain as seq,
        count(*) over (partition by entries.provider, entries.account_id, entries.wallet_key)
            as entries
    from entries
    inner join wallets
        on entries.provider = wallets.provider
        and entries.account_id = wallets.account_id
        and entries.wallet_key = wallets.wallet_key
    window w_chain as (
        partition by entries.provider, entries.account_id, entries.wallet_key
        order by
            entries.transaction_time,
            entries.created_at,
            entries.transaction_id,
            entries.in_out_type
    )
),

bucketed as (
    -- Half the points go to bucket lows and half to highs, so spikes survive downsampling.
    select
        *,
        floor((seq - 1) * greatest($max_points // 2, 1) / entries) as bucket
    from chain
),

ranked as (
    select
        *,
        row_number() over (
            partition by provider, account_id, wallet_key, bucket
            order by after_balance, seq
        ) as low_rank,
        row_number() over (
            partition by provider, account_id, wallet_key, bucket
            order by after_balance desc, seq
        ) as high_rank
    from bucketed
),

final as (
    select
        ranked.wallet_rank,
        ranked.provider,
        ranked.account_id,
        ranked.wallet_key,
        ranked.seq,
        ranked.transaction_id,
        ranked.in_out_type,
        ranked.transaction_time,
        ranked.after_balance,
        ranked.entries
    from ranked
    where
        ranked.entries <= $max_points
        or ranked.seq in (1, ranked.entries)
        or ranked.low_rank = 1
        or ranked.high_rank = 1
        or exists (
            select 1
            from marks
            where marks.provider = ranked.provider
                and marks.account_id = ranked.account_id
                and marks.wallet_key = ranked.wallet_key
                and marks.marked_transaction_id = ranked.transaction_id
                and marks.marked_in_out_type = ranked.in_out_type
        )
)

select * from final
order by wallet_rank, seq

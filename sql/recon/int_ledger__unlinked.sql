-- The ends of each stretch of linked chain in every wallet: entries whose before_balance no earlier entry ended at (a stretch starts) or whose after_balance no later entry starts from (a stretch ends); every other entry is linked on both sides.
-- Grain: one row per entry (provider, account_id, wallet_key, transaction_id, in_out_type) and side (starts / ends); an entry alone in its stretch has both rows.
with entries as not materialized (
    -- Not materialized, or DuckDB would first copy every column of the whole ledger.
    select * from fct_ledger_entries
),

in_time_order as (
    -- The only pass over the whole ledger: one sort by wallet and time. Entries of the same
    -- second come in no particular order here, and nothing below depends on that order. Why
    -- the steps below give exactly the breaks of pairing every balance of every entry (the
    -- first version, kept as tests/fixtures/chain_gap_reference.sql): docs/checks.md, "How
    -- the chain check is computed".
    select
        provider,
        account_id,
        wallet_key,
        transaction_id,
        in_out_type,
        transaction_time,
        created_at,
        before_balance,
        after_balance,
        dense_rank() over by_time as second_no,
        lag(transaction_time) over by_time as previous_time,
        lag(transaction_time, 2) over by_time as second_previous_time,
        lag(before_balance) over by_time as previous_before_balance,
        lag(after_balance) over by_time as previous_after_balance,
        lead(transaction_time) over by_time as next_time,
        lead(transaction_time, 2) over by_time as second_next_time,
        lead(before_balance) over by_time as next_before_balance,
        lead(after_balance) over by_time as next_after_balance
    from entries
    window by_time as (partition by provider, account_id, wallet_key order by transaction_time)
),

links as (
    -- Two neighbouring entries, each alone in its second and each moving the balance, are
    -- linked when the later starts where the earlier ended: nothing is booked between them, so
    -- the pairing of balances would pair exactly these two. Most of a ledger is settled here.
    -- An entry sharing its second, or not moving the balance, is always left to the pairing.
    select
        *,
        coalesce(
            previous_time is distinct from transaction_time
            and next_time is distinct from transaction_time
            and before_balance <> after_balance
            and second_previous_time is distinct from previous_time
            and previous_before_balance <> previous_after_balance
            and previous_after_balance = before_balance,
            false
        ) as is_linked_to_previous,
        coalesce(
            previous_time is distinct from transaction_time
            and next_time is distinct from transaction_time
            and before_balance <> after_balance
            and second_next_time is distinct from next_time
            and next_before_balance <> next_after_balance
            and next_before_balance = after_balance,
            false
        ) as is_linked_to_next
    from in_time_order
),

unsettled as (
    select
        provider,
        account_id,
        wallet_key,
        transaction_id,
        in_out_type,
        transaction_time,
        created_at,
        before_balance,
        after_balance,
        second_no,
        is_linked_to_previous,
        is_linked_to_next
    from links
    where not (is_linked_to_previous and is_linked_to_next)
),

balance_events as (
    -- Each unsettled entry asks for a predecessor that ended at its before_balance and offers
    -- its after_balance to a successor, except on a side already linked.
    select provider, account_id, wallet_key, second_no, before_balance as balance, 1 as asks
    from unsettled
    where not is_linked_to_previous
    union all
    select provider, account_id, wallet_key, second_no, after_balance as balance, -1 as asks
    from unsettled
    where not is_linked_to_next
),

per_second as (
    -- Entries of one second may link in any order (reconciliation.md §2): within a second an
    -- offer of a balance always meets an ask for it. Each second keeps, per balance, only the
    -- asks (positive) or the offers (negative) its own entries leave open.
    select provider, account_id, wallet_key, balance, second_no, sum(asks) as open_asks
    from balance_events
    group by provider, account_id, wallet_key, balance, second_no
    having sum(asks) <> 0
),

between_seconds as (
    -- What one second leaves on offer meets what the wallet's next second asks for, balance by
    -- balance: nothing of that balance is booked between them. This settles bursts that link.
    select
        asking.provider,
        asking.account_id,
        asking.wallet_key,
        asking.balance,
        asking.second_no,
        least(asking.open_asks, -offering.open_asks) as linked
    from per_second as asking
    inner join per_second as offering
        on asking.provider = offering.provider
        and asking.account_id = offering.account_id
        and asking.wallet_key = offering.wallet_key
        and asking.balance = offering.balance
        and asking.second_no = offering.second_no + 1
    where asking.open_asks > 0 and offering.open_asks < 0
),

still_open as (
    -- What is left is about the gaps, the first and last entries of each wallet, and seconds
    -- that do not link to their neighbours: a small part of the ledger.
    select
        per_second.provider,
        per_second.account_id,
        per_second.wallet_key,
        per_second.balance,
        per_second.second_no,
        per_second.open_asks
        - coalesce(asked.linked, 0)
        + coalesce(offered.linked, 0) as open_asks
    from per_second
    left join between_seconds as asked
        on per_second.provider = asked.provider
        and per_second.account_id = asked.account_id
        and per_second.wallet_key = asked.wallet_key
        and per_second.balance = asked.balance
        and per_second.second_no = asked.second_no
    left join between_seconds as offered
        on per_second.provider = offered.provider
        and per_second.account_id = offered.account_id
        and per_second.wallet_key = offered.wallet_key
        and per_second.balance = offered.balance
        and per_second.second_no = offered.second_no - 1
    where per_second.open_asks - coalesce(asked.linked, 0) + coalesce(offered.linked, 0) <> 0
),

running as (
    -- The pairing proper, per wallet and balance in time order: the asks so far that no earlier
    -- (or same-second) offer met, and, counting backwards from the end, the offers from here on
    -- that no later (or same-second) ask took.
    select
        *,
        sum(open_asks) over (
            partition by provider, account_id, wallet_key, balance
            order by second_no
            rows between unbounded preceding and current row
        ) as asks_so_far,
        sum(-open_asks) over (
            partition by provider, account_id, wallet_key, balance
            order by second_no
            rows between current row and unbounded following
        ) as offers_from_here
    from still_open
),

unmet as (
    -- An ask is unmet when the asks so far reach a new high (every ask before it found an
    -- offer); an offer is untaken when the offers from here reach a new high, backwards.
    select
        *,
        greatest(
            asks_so_far - greatest(coalesce(max(asks_so_far) over (
                partition by provider, account_id, wallet_key, balance
                order by second_no
                rows between unbounded preceding and 1 preceding
            ), 0), 0),
            0
        ) as unmet_asks,
        greatest(
            offers_from_here - greatest(coalesce(max(offers_from_here) over (
                partition by provider, account_id, wallet_key, balance
                order by second_no
                rows between 1 following and unbounded following
            ), 0), 0),
            0
        ) as untaken_offers
    from running
),

unpaired_asks as (
    -- Within a second the pairing meets asks in the order of transaction_id, so the unmet
    -- asks of a balance are its last ones by id. This fixes which entry a gap names.
    select unsettled.*
    from unmet
    inner join unsettled
        on unmet.provider = unsettled.provider
        and unmet.account_id = unsettled.account_id
        and unmet.wallet_key = unsettled.wallet_key
        and unmet.second_no = unsettled.second_no
        and unmet.balance = unsettled.before_balance
    where unmet.unmet_asks > 0 and not unsettled.is_linked_to_previous
    qualify row_number() over (
        partition by
            unsettled.provider, unsettled.account_id, unsettled.wallet_key,
            unsettled.second_no, unsettled.before_balance
        order by unsettled.transaction_id desc, unsettled.in_out_type desc
    ) <= unmet.unmet_asks
),

unpaired_offers as (
    -- The mirror image: the untaken offers of a balance in a second are its first ones by id.
    select unsettled.*
    from unmet
    inner join unsettled
        on unmet.provider = unsettled.provider
        and unmet.account_id = unsettled.account_id
        and unmet.wallet_key = unsettled.wallet_key
        and unmet.second_no = unsettled.second_no
        and unmet.balance = unsettled.after_balance
    where unmet.untaken_offers > 0 and not unsettled.is_linked_to_next
    qualify row_number() over (
        partition by
            unsettled.provider, unsettled.account_id, unsettled.wallet_key,
            unsettled.second_no, unsettled.after_balance
        order by unsettled.transaction_id, unsettled.in_out_type
    ) <= unmet.untaken_offers
),

final as (
    -- chain_gap pairs the n-th end with the (n+1)-th start of a wallet; fct_coverage counts
    -- every entry with no row here as linked to both neighbours.
    select
        provider, account_id, wallet_key, transaction_id, in_out_type, transaction_time,
        created_at, 'starts' as side
    from unpaired_asks
    union all
    select
        provider, account_id, wallet_key, transaction_id, in_out_type, transaction_time,
        created_at, 'ends' as side
    from unpaired_offers
)

select * from final

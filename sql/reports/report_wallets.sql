-- Ledger wallets with any break, ranked for the balance charts: most open breaks first, then most breaks.
-- Grain: one row per wallet (provider, account_id, wallet_key) with a break. Reads the temp view report_break_entries.
with breaks as (
    select * from report_break_entries
),

entries as (
    select * from fct_ledger_entries
),

per_wallet as (
    select
        provider,
        account_id,
        wallet_key,
        any_value(wallet_name) as wallet_name,
        any_value(wallet_currency) as currency,
        count(*) filter (where status = 'open') as open_breaks,
        count(*) filter (where status = 'pending') as pending_breaks,
        count(*) as breaks
    from breaks
    where wallet_key is not null
    group by provider, account_id, wallet_key
),

sizes as (
    select provider, account_id, wallet_key, count(*) as entries
    from entries
    group by provider, account_id, wallet_key
),

final as (
    select
        row_number() over (
            order by
                per_wallet.open_breaks desc,
                per_wallet.breaks desc,
                per_wallet.provider,
                per_wallet.account_id,
                per_wallet.wallet_key
        ) as wallet_rank,
        per_wallet.*,
        sizes.entries
    from per_wallet
    inner join sizes
        on per_wallet.provider = sizes.provider
        and per_wallet.account_id = sizes.account_id
        and per_wallet.wallet_key = sizes.wallet_key
)

select * from final
order by wallet_rank

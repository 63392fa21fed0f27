-- Whalet money objects whose cents are not their amount times their cent factor, in user and platform balances.
-- Grain: one row per offending money object (account_id, fund_source, currency, field), as of the latest reading.
with user_balances as (
    select * from stg_whalet__balances
),

platform_balances as (
    select * from stg_whalet__platform_balances
),

records as (
    select *, 'user' as holder from user_balances
    union all by name
    select *, 'platform' as holder from platform_balances
),

latest as (
    -- The records of the newest reading (one reading holds every configured user): a record
    -- no longer reported has no finding any more.
    select *
    from records
    qualify snapshot_at = max(snapshot_at) over (partition by provider, holder)
),

money_objects as (
    select
        latest.provider,
        latest.holder,
        latest.account_id,
        latest.fund_source,
        latest.currency as record_currency,
        latest.snapshot_at,
        latest._source_file,
        money.field,
        money.amount,
        money.cents,
        money.cent_factor,
        coalesce(money.currency, latest.currency) as currency
    from latest
    cross join lateral (
        values
            (
                'balance', latest.balance_amount, latest.balance_cents,
                latest.balance_cent_factor, latest.balance_currency
            ),
            (
                'orderQuota', latest.order_quota_amount, latest.order_quota_cents,
                latest.order_quota_cent_factor, latest.order_quota_currency
            ),
            (
                'rmbAmount', latest.rmb_amount_amount, latest.rmb_amount_cents,
                latest.rmb_amount_cent_factor, latest.rmb_amount_currency
            ),
            (
                'pendingAmount', latest.pending_amount_amount, latest.pending_amount_cents,
                latest.pending_amount_cent_factor, latest.pending_amount_currency
            ),
            (
                'freezeAmount', latest.freeze_amount_amount, latest.freeze_amount_cents,
                latest.freeze_amount_cent_factor, latest.freeze_amount_currency
            )
    ) as money(field, amount, cents, cent_factor, currency)
    where money.amount is not null
),

final as (
    select
        'money_unit_mismatch' as check_name,
        provider,
        account_id,
        'money' as entity_type,
        fund_source || ':' || record_currency || ':' || field as entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        -- In minor units (cents), the unit the provider's two numbers can be compared in.
        cast(amount * cent_factor as decimal(38, 8)) as expected,
        cast(cents as decimal(38, 8)) as actual,
        cast(cents - amount * cent_factor as decimal(38, 8)) as difference,
        format(
            'The {} of {} ({} {} balance) is {} {}, which at {} cents per unit is {} cents, '
            || 'but Whalet sent {} cents.',
            field,
            case holder when 'user' then 'user ' || account_id else 'the platform' end,
            fund_source, record_currency, amount_text, currency, cent_factor::varchar,
            cents_expected_text, cents::varchar
        ) as detail,
        false as is_pending,
        holder || ':' || fund_source || ':' || record_currency || ':' || field as break_key,
        _source_file as source_file,
        snapshot_at as window_start,
        snapshot_at as window_end
    from (
        select
            *,
            -- Amounts land with 8 decimals; the sentence shows them as the provider wrote
            -- them (2 decimals unless there were more).
            case
                when amount = round(amount, 2) then cast(amount as decimal(24, 2))::varchar
                else amount::varchar
            end as amount_text,
            case
                when amount * cent_factor = round(amount * cent_factor)
                    then cast(amount * cent_factor as hugeint)::varchar
                else (amount * cent_factor)::varchar
            end as cents_expected_text
        from money_objects
    )
    where amount * cent_factor is distinct from cents
)

select * from final

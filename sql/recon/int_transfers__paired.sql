-- Transfers between providers (providers.md §4): each OPEN-API side named by its reference, paired with the JT balance records of that reference, and whether the missing side may still be booked.
-- Grain: one row per OPEN-API transfer side (provider, account_id, transfer_ref).
with entries as (
    select * from stg_openapi__transactions
),

jt_records as (
    select * from stg_jt__balance_records
),

period as (
    select grace_period from int_ledger__grace
),

jt_span as (
    -- What JT history is loaded: a JT side outside it cannot be looked for. No JT rows at all
    -- (JT not configured) leaves both ends null, and no transfer to or from JT is judged.
    select min(_window_start) as loaded_from, max(_window_end) as loaded_to from jt_records
),

openapi_sides as (
    -- The reference is read from the text like the payment's fee (stg_openapi__transactions):
    -- a departure is an approved payment (5010) whose attach names it and its destination; an
    -- arrival a deposit (1010) whose remark is `TRANSFER <ref>`. A rejected or still pending
    -- payment sends nothing yet.
    select
        *,
        case
            when transaction_type = 5010 then 'departure'
            when transaction_type = 1010 then 'arrival'
        end as side,
        case
            when transaction_type = 5010 then nullif(regexp_extract(
                attach, '"transfer_ref"\s*:\s*"([^"]+)"', 1
            ), '')
            when transaction_type = 1010 then nullif(regexp_extract(
                remark, '^TRANSFER\s+(\S+)\s*$', 1
            ), '')
        end as transfer_ref,
        -- The other provider: the payment's destination, or the origin a deposit's attach may
        -- name; a deposit that names none came from a ledgered provider (JT).
        case
            when transaction_type = 5010 then nullif(regexp_extract(
                attach, '"destination"\s*:\s*\{[^{}]*?"provider"\s*:\s*"([^"]*)"', 1
            ), '')
            else coalesce(nullif(regexp_extract(
                attach, '"origin"\s*:\s*\{[^{}]*?"provider"\s*:\s*"([^"]*)"', 1
            ), ''), 'jt')
        end as counterparty_provider,
        nullif(regexp_extract(
            attach, '"(?:destination|origin)"\s*:\s*\{[^{}]*?"account"\s*:\s*"([^"]*)"', 1
        ), '') as counterparty_account
    from entries
    where (transaction_type = 5010 and in_out_type = 2 and status = 2)
        or (transaction_type = 1010 and in_out_type = 1)
),

transfers as (
    select * from openapi_sides
    where transfer_ref is not null
),

jt_sides as (
    -- A JT transfer side is a balance record whose mchOrderId is the reference: a credit
    -- for money arriving, a debit for money leaving. Several records of one reference
    -- together make the side.
    select
        mch_order_id as transfer_ref,
        in_out_type,
        sum(amount) as amount,
        count(*) as records,
        string_agg(distinct currency, ',' order by currency) as currency,
        string_agg(distinct mch_uuid, ',' order by mch_uuid) as mch_uuids,
        arg_max(balance_ref_no, created_at) as balance_ref_no,
        min(created_at) as booked_at
    from jt_records
    -- Only references an OPEN-API side names: every JT record has a mchOrderId.
    where mch_order_id in (select transfers.transfer_ref from transfers)
    group by mch_order_id, in_out_type
),

paired as (
    select
        transfers.provider,
        transfers.account_id,
        transfers.transfer_ref,
        transfers.side,
        transfers.counterparty_provider,
        transfers.counterparty_account,
        transfers.transaction_id,
        transfers.currency,
        transfers.amount,
        -- Only a payment states a fee; JT transfers carry none (providers.md §4).
        case transfers.side when 'departure' then coalesce(transfers.payment_fee, 0) else 0 end
            as fee,
        -- The payment leaves when approved; the deposit arrives when booked.
        case transfers.side
            when 'departure' then coalesce(transfers.approve_at, transfers.transaction_time)
            else transfers.transaction_time
        end as side_at,
        jt_sides.balance_ref_no as counterpart_transaction_id,
        jt_sides.mch_uuids as counterpart_account,
        jt_sides.amount as counterpart_amount,
        jt_sides.currency as counterpart_currency,
        jt_sides.records as counterpart_records,
        jt_sides.booked_at as counterpart_at,
        transfers._source_file,
        transfers._window_start,
        transfers._window_end
    from transfers
    left join jt_sides
        on transfers.transfer_ref = jt_sides.transfer_ref
        -- A departure meets the JT credit, an arrival the JT debit.
        and jt_sides.in_out_type = case transfers.side when 'departure' then 1 else 2 end
    where transfers.counterparty_provider = 'jt'
),

final as (
    select
        paired.*,
        case side when 'departure' then amount - fee else amount end as arrival_expected,
        case side when 'departure' then amount else counterpart_amount end as departure_amount,
        case side when 'departure' then counterpart_amount else amount end as arrival_amount,
        case side when 'departure' then currency else counterpart_currency end
            as departure_currency,
        case side when 'departure' then counterpart_currency else currency end
            as arrival_currency,
        counterpart_transaction_id is not null as is_paired,
        -- Whether the JT side could be in the loaded JT history: an arrival is booked up to
        -- the grace period after its departure, a departure before its arrival.
        jt_span.loaded_to is not null
        and case side
            when 'departure' then side_at >= jt_span.loaded_from
            else side_at - period.grace_period >= jt_span.loaded_from
        end as is_judged,
        case side
            when 'departure' then side_at + period.grace_period > jt_span.loaded_to
            else side_at > jt_span.loaded_to
        end as counterpart_may_come
    from paired
    cross join jt_span
    cross join period
)

select * from final

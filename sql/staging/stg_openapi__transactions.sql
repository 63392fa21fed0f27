-- OPEN-API wallet ledger entries (transaction bills), typed and renamed; amounts DECIMAL.
-- Grain: one row per ledger entry (customer_id, transaction_id, in_out_type, currency).
with source as (
    select * from raw_openapi__transactions
),

renamed as (
    select
        'openapi' as provider,
        source.customer_id,
        cast(source.customer_id as varchar) as account_id,
        source.transaction_id,
        nullif(source.record_id, '') as record_id,
        nullif(source.out_transaction_id, '') as out_transaction_id,
        source.product_id,
        source.in_out_type,
        case source.in_out_type when 1 then 'income' when 2 then 'expense' end as direction,
        source.transaction_type,
        source.transaction_desc,
        source.currency,
        source.amount,
        case source.in_out_type when 1 then source.amount else -source.amount end
            as signed_amount,
        source.before_balance,
        source.after_balance,
        source.status,
        case source.status
            when 1 then 'pending' when 2 then 'approved' when 3 then 'rejected'
        end as status_name,
        nullif(source.reject_reason, '') as reject_reason,
        nullif(source.remark, '') as remark,
        nullif(source.attach, '') as attach,
        -- Exchange details are read from the attach text, never through JSON numbers
        -- (which DuckDB parses as binary floating point): the rate's digits are cast straight to DECIMAL.
        cast(nullif(regexp_extract(
            source.attach, '"exchange_rate"\s*:\s*"?([0-9]+(\.[0-9]+)?)', 1
        ), '') as decimal(18, 8)) as exchange_rate,
        nullif(regexp_extract(
            source.attach, '"sell_currency"\s*:\s*"([A-Za-z]+)"', 1
        ), '') as exchange_sell_currency,
        nullif(regexp_extract(
            source.attach, '"buy_currency"\s*:\s*"([A-Za-z]+)"', 1
        ), '') as exchange_buy_currency,
        -- A payment's (5010) pay-out and fee, read from the attach text the same way; the fee
        -- is the one inside `fee_detail` (the object holds no nested objects).
        cast(nullif(regexp_extract(
            source.attach, '"pay_out_amount"\s*:\s*"?(-?[0-9]+(\.[0-9]+)?)', 1
        ), '') as decimal(38, 8)) as payment_pay_out_amount,
        nullif(regexp_extract(
            source.attach, '"pay_out_currency"\s*:\s*"([A-Za-z]+)"', 1
        ), '') as payment_pay_out_currency,
        cast(nullif(regexp_extract(
            source.attach, '"fee_detail"\s*:\s*\{[^{}]*?"fee"\s*:\s*"?(-?[0-9]+(\.[0-9]+)?)', 1
        ), '') as decimal(38, 8)) as payment_fee,
        source.approve_type,
        source.approve_at,
        source.transaction_time,
        source.create_at as created_at,
        source._window_start,
        source._window_end,
        source._fetched_at,
        source._source_file
    from source
),

final as (
    select * from renamed
)

select * from final

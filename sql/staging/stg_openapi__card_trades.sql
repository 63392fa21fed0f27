-- OPEN-API card trades, typed and renamed, with their signed effect on the card balance.
-- Grain: one row per trade (customer_id, trade_id).
with source as (
    select * from raw_openapi__card_trades
),

renamed as (
    select
        'openapi' as provider,
        source.customer_id,
        cast(source.customer_id as varchar) as account_id,
        source.trade_id,
        source.card_id,
        nullif(source.origin_trade_id, '') as origin_trade_id,
        source.trade_type,
        case source.trade_type
            when 1 then 'purchase' when 2 then 'refund' when 3 then 'reversal'
            when 4 then 'fee' when 5 then 'verification'
        end as trade_type_name,
        source.trade_result,
        case source.trade_result
            when 1 then 'success' when 2 then 'failed' when 3 then 'pending'
        end as trade_result_name,
        source.trade_amount,
        source.trade_currency,
        -- providers.md 1.5: only successful purchases and fees debit, refunds and reversals
        -- credit; failed, pending and verification trades do not move the balance.
        case
            when source.trade_result <> 1 then 0
            when source.trade_type in (1, 4) then -source.trade_amount
            when source.trade_type in (2, 3) then source.trade_amount
            else 0
        end as balance_effect,
        source.merchant_amount,
        nullif(source.merchant_currency, '') as merchant_currency,
        nullif(source.merchant_name, '') as merchant_name,
        nullif(source.mcc, '') as mcc,
        nullif(source.auth_code, '') as auth_code,
        source.trade_time,
        source.settle_time,
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

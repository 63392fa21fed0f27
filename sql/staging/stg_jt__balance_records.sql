-- JT wallet balance records, renamed and typed: major-unit DECIMAL amounts beside the minor units JT sent.
-- Grain: one row per balance record (app_id, balance_ref_no).
with source as (
    select * from raw_jt__balance_records
),

renamed as (
    select
        'jt' as provider,
        source.app_id as account_id,
        source.mch_uuid,
        source.uuid as user_uuid,
        source.balance_ref_no,
        source.type as record_type,
        case source.type when 'CREDIT' then 1 when 'DEBIT' then 2 end as in_out_type,
        case source.type when 'CREDIT' then 'income' when 'DEBIT' then 'expense' end
            as direction,
        nullif(source.business_type, '') as business_type,
        source.currency,
        source.amount,
        source.before_balance,
        source.after_balance,
        source.amount_minor,
        source.before_balance_minor,
        source.after_balance_minor,
        nullif(source.mch_order_id, '') as mch_order_id,
        source.create_time as created_at,
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

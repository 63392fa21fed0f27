-- OPEN-API card orders (open card, top up, close card), typed and renamed.
-- Grain: one row per order (customer_id, order_id).
with source as (
    select * from raw_openapi__orders
),

renamed as (
    select
        'openapi' as provider,
        source.customer_id,
        cast(source.customer_id as varchar) as account_id,
        source.order_id,
        nullif(source.out_order_id, '') as out_order_id,
        source.order_type,
        case source.order_type
            when 1 then 'open_card' when 2 then 'top_up' when 3 then 'close_card'
        end as order_type_name,
        nullif(source.card_id, '') as card_id,
        source.amount,
        source.fee,
        source.total_amount,
        source.currency,
        source.status,
        case source.status
            when 1 then 'processing' when 2 then 'success' when 3 then 'failed'
        end as status_name,
        source.create_at as created_at,
        source.finish_at as finished_at,
        source.bill_list,
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

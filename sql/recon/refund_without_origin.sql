-- Successful refunds and reversals whose origin_trade_id is empty, unknown, or names a trade that is not a successful purchase or fee; an unknown origin is pending while it may still arrive.
-- Grain: one row per refund or reversal without a valid origin (provider, account_id, trade_id).
with trades as (
    select * from stg_openapi__card_trades
),

grace as (
    select * from int_ledger__grace
),

credits as (
    select * from trades
    where trade_type in (2, 3) and trade_result = 1
),

classified as (
    select
        credits.*,
        origins.trade_type_name as origin_type_name,
        origins.trade_result_name as origin_result_name,
        case
            when credits.origin_trade_id is null then 'empty'
            when origins.trade_id is null then 'unknown'
            when origins.trade_type not in (1, 4) then 'not_a_debit'
            when origins.trade_result <> 1 then 'not_successful'
        end as reason
    from credits
    left join trades as origins
        on credits.provider = origins.provider
        and credits.account_id = origins.account_id
        and credits.origin_trade_id = origins.trade_id
),

orphans as (
    select
        classified.*,
        -- Only an unknown origin may still be loaded; measured from the refund's own time,
        -- like an order's missing debit (int_ledger__grace).
        coalesce(
            classified.reason = 'unknown' and classified.trade_time > grace.settled_until, false
        ) as is_pending
    from classified
    cross join grace
    where classified.reason is not null
),

final as (
    select
        'refund_without_origin' as check_name,
        provider,
        account_id,
        'trade' as entity_type,
        trade_id as entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        trade_currency as currency,
        cast(null as decimal(38, 8)) as expected,
        cast(trade_amount as decimal(38, 8)) as actual,
        cast(null as decimal(38, 8)) as difference,
        format(
            'Card {} {} {} credited {} {} back {}.',
            card_id, trade_type_name, trade_id, trade_amount::varchar, trade_currency,
            case reason
                when 'empty' then 'without naming the trade it refers to (origin_trade_id is empty)'
                when 'unknown' then 'for trade ' || origin_trade_id || ', which is not in the loaded trades'
                when 'not_a_debit' then 'for trade ' || origin_trade_id || ', a ' || origin_type_name
                    || ', not a purchase or fee'
                else 'for ' || origin_type_name || ' ' || origin_trade_id || ', which did not succeed ('
                    || origin_result_name || ')'
            end
        ) as detail,
        is_pending,
        trade_id as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from orphans
)

select * from final

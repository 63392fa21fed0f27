-- Purchases whose successful refunds and reversals (origin_trade_id) add up to more than the purchase.
-- Grain: one row per over-credited purchase (provider, account_id, origin trade_id).
with trades as (
    select * from stg_openapi__card_trades
),

credits as (
    -- Only refunds and reversals that credited the card count against their purchase: a
    -- partial refund and a later reversal of the rest together may equal it, never exceed it.
    select
        provider,
        account_id,
        origin_trade_id,
        sum(trade_amount) as credited,
        count(*) as credit_count,
        arg_max(trade_id, trade_time) as last_credit_id,
        arg_max(_source_file, trade_time) as _source_file,
        min(_window_start) as _window_start,
        max(_window_end) as _window_end
    from trades
    where trade_type in (2, 3) and trade_result = 1 and origin_trade_id is not null
    group by provider, account_id, origin_trade_id
),

origins as (
    -- A refund may credit back a purchase or a card fee; other origins (none, unknown, a trade
    -- that did not succeed) are refund_without_origin's findings.
    select * from trades
    where trade_type in (1, 4) and trade_result = 1
),

exceeding as (
    select
        origins.provider,
        origins.account_id,
        origins.trade_id,
        origins.trade_type_name,
        origins.card_id,
        origins.trade_currency as currency,
        origins.trade_amount,
        credits.credited,
        credits.credit_count,
        credits.last_credit_id,
        credits._source_file,
        least(origins._window_start, credits._window_start) as _window_start,
        greatest(origins._window_end, credits._window_end) as _window_end
    from credits
    inner join origins
        on credits.provider = origins.provider
        and credits.account_id = origins.account_id
        and credits.origin_trade_id = origins.trade_id
    where credits.credited > origins.trade_amount
),

final as (
    select
        'refund_exceeds_origin' as check_name,
        provider,
        account_id,
        'trade' as entity_type,
        trade_id as entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(trade_amount as decimal(38, 8)) as expected,
        cast(credited as decimal(38, 8)) as actual,
        cast(credited - trade_amount as decimal(38, 8)) as difference,
        format(
            'Card {} {} {} of {} {} was credited back {} {} by {} refund(s) and reversal(s), '
            || 'the latest {}: {} more than it was.',
            card_id, trade_type_name, trade_id, trade_amount::varchar, currency,
            credited::varchar, currency, credit_count, last_credit_id,
            (credited - trade_amount)::varchar
        ) as detail,
        false as is_pending,
        trade_id as break_key,
        _source_file as source_file,
        _window_start as window_start,
        _window_end as window_end
    from exceeding
)

select * from final

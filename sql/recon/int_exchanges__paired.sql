-- Currency exchanges with their legs side by side: sold (expense) and bought (income) currency, amounts and the applied rate.
-- Grain: one row per exchange (provider, account_id, transaction_id); legs share the transaction id.
with entries as (
    select * from stg_openapi__transactions
),

exchange_ids as (
    -- An exchange is recognised by its legs (one id, two currencies) as well as by its type.
    select provider, account_id, transaction_id
    from entries
    group by provider, account_id, transaction_id
    having bool_or(transaction_type = 3010) or count(distinct currency) > 1
),

legs as (
    select entries.*
    from entries
    inner join exchange_ids using (provider, account_id, transaction_id)
),

paired as (
    select
        provider,
        account_id,
        transaction_id,
        count(*) filter (where in_out_type = 2) as expense_legs,
        count(*) filter (where in_out_type = 1) as income_legs,
        any_value(currency) filter (where in_out_type = 2) as sell_currency,
        any_value(amount) filter (where in_out_type = 2) as sell_amount,
        any_value(currency) filter (where in_out_type = 1) as buy_currency,
        any_value(amount) filter (where in_out_type = 1) as buy_amount,
        coalesce(
            any_value(exchange_rate) filter (where in_out_type = 2),
            any_value(exchange_rate) filter (where in_out_type = 1)
        ) as applied_rate,
        any_value(exchange_sell_currency) as attach_sell_currency,
        any_value(exchange_buy_currency) as attach_buy_currency,
        min(transaction_time) as first_leg_at,
        max(transaction_time) as last_leg_at,
        min(_source_file) as source_file,
        min(_window_start) as window_start,
        max(_window_end) as window_end
    from legs
    group by provider, account_id, transaction_id
),

final as (
    select
        *,
        expense_legs = 1 and income_legs = 1 and sell_currency <> buy_currency as is_complete
    from paired
)

select * from final

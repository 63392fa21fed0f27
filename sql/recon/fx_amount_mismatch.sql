-- Currency exchanges whose bought amount is not the sold amount times the applied rate, rounded half up to cents (within tolerance).
-- Grain: one row per offending exchange (provider, account_id, transaction_id).
with exchanges as (
    select * from int_exchanges__paired
),

settings as (
    select * from recon_settings
),

expected as (
    select
        exchanges.*,
        -- DECIMAL(38, ...) before multiplying: DuckDB keeps the narrower precision otherwise.
        round(
            cast(exchanges.sell_amount as decimal(38, 2))
            * cast(exchanges.applied_rate as decimal(38, 8)),
            2
        ) as expected_buy_amount,
        coalesce(by_currency.value, by_default.value) as tolerance
    from exchanges
    left join settings as by_currency
        on by_currency.setting = 'fx_amount_tolerance'
        and by_currency.currency = exchanges.buy_currency
    left join settings as by_default
        on by_default.setting = 'fx_amount_tolerance'
        and by_default.currency is null
    where exchanges.is_complete and exchanges.applied_rate is not null
),

final as (
    select
        'fx_amount_mismatch' as check_name,
        provider,
        account_id,
        'exchange' as entity_type,
        transaction_id as entity_id,
        transaction_id,
        cast(null as varchar) as related_transaction_id,
        buy_currency as currency,
        cast(expected_buy_amount as decimal(38, 8)) as expected,
        cast(buy_amount as decimal(38, 8)) as actual,
        cast(buy_amount - expected_buy_amount as decimal(38, 8)) as difference,
        format(
            'Exchange {} sold {} {} at {}, which buys {} {}, but {} {} was booked.',
            transaction_id, sell_amount::varchar, sell_currency, applied_rate::varchar,
            expected_buy_amount::varchar, buy_currency, buy_amount::varchar, buy_currency
        ) as detail,
        false as is_pending,
        transaction_id as break_key,
        source_file,
        window_start,
        window_end
    from expected
    where abs(buy_amount - expected_buy_amount) > tolerance
)

select * from final

-- Currency exchanges whose applied rate is further than the tolerance (in basis points) from the reference rate snapshot nearest in time.
-- Grain: one row per offending exchange (provider, account_id, transaction_id).
with exchanges as (
    select * from int_exchanges__paired
),

rates as (
    select * from stg_openapi__exchange_rates
),

settings as (
    select * from recon_settings
),

nearest_reference as (
    select
        exchanges.*,
        rates.rate as reference_rate,
        rates.snapshot_at as reference_at
    from exchanges
    inner join rates
        on exchanges.provider = rates.provider
        and exchanges.account_id = rates.account_id
        and exchanges.sell_currency = rates.from_currency
        and exchanges.buy_currency = rates.to_currency
    where exchanges.is_complete and exchanges.applied_rate is not null
    qualify row_number() over (
        partition by exchanges.provider, exchanges.account_id, exchanges.transaction_id
        order by
            abs(date_diff('second', exchanges.first_leg_at, rates.snapshot_at)),
            rates.snapshot_at
    ) = 1
),

deviation as (
    select
        nearest_reference.*,
        coalesce(by_currency.value, by_default.value) as tolerance_bps,
        -- Basis points to two places, rounded half up by integer arithmetic: DuckDB's
        -- DECIMAL / DECIMAL returns binary floating point.
        sign(applied_rate - reference_rate) * cast(
            (
                abs(cast((applied_rate - reference_rate) * 100000000 as hugeint)) * 2000000
                + cast(reference_rate * 100000000 as hugeint)
            ) // (2 * cast(reference_rate * 100000000 as hugeint))
            as decimal(36, 0)
        ) * 0.01 as deviation_bps
    from nearest_reference
    left join settings as by_currency
        on by_currency.setting = 'fx_rate_tolerance_bps'
        and by_currency.currency = nearest_reference.buy_currency
    left join settings as by_default
        on by_default.setting = 'fx_rate_tolerance_bps'
        and by_default.currency is null
),

final as (
    select
        'fx_rate_deviation' as check_name,
        provider,
        account_id,
        'exchange' as entity_type,
        transaction_id as entity_id,
        transaction_id,
        cast(null as varchar) as related_transaction_id,
        buy_currency as currency,
        cast(reference_rate as decimal(38, 8)) as expected,
        cast(applied_rate as decimal(38, 8)) as actual,
        cast(applied_rate - reference_rate as decimal(38, 8)) as difference,
        format(
            'Exchange {} applied 1 {} = {} {}, {} bps from the reference rate {} taken at {}.',
            transaction_id, sell_currency, applied_rate::varchar, buy_currency,
            deviation_bps::varchar, reference_rate::varchar,
            strftime(reference_at, '%Y-%m-%d %H:%M:%S')
        ) as detail,
        false as is_pending,
        transaction_id as break_key,
        source_file,
        window_start,
        window_end
    from deviation
    -- |applied - reference| > tolerance x reference / 10000, compared without division
    where abs(applied_rate - reference_rate) * 10000 > tolerance_bps * reference_rate
)

select * from final

-- Cards whose reported balance or limit (cumulative top-ups) differs from their successful orders and trades.
-- Grain: one row per card and field (balance, limit), from the card's latest comparable snapshot.
with cards as (
    select * from stg_openapi__cards
),

movements as (
    select * from int_cards__movements
),

comparable as (
    -- Only snapshots read together with the order and trade tails say how far those are
    -- complete; without that a difference may be rows not loaded yet, not a break.
    select *
    from cards
    where chain_complete_through is not null
    qualify row_number() over (
        partition by provider, account_id, card_id order by snapshot_at desc
    ) = 1
),

computed as (
    select
        comparable.provider,
        comparable.account_id,
        comparable.card_id,
        comparable.card_last4,
        comparable.balance as reported_balance,
        comparable.cumulative_top_up as reported_limit,
        comparable.snapshot_at,
        comparable._source_file,
        comparable.tail_from,
        comparable.chain_complete_through,
        any_value(movements.currency) as currency,
        coalesce(sum(movements.balance_effect), 0) as computed_balance,
        coalesce(sum(movements.top_up), 0) as computed_limit
    from comparable
    left join movements
        on comparable.provider = movements.provider
        and comparable.account_id = movements.account_id
        and comparable.card_id = movements.card_id
        and movements.recorded_at <= comparable.chain_complete_through
    group by all
),

fields as (
    select *, 'balance' as field, computed_balance as expected, reported_balance as actual
    from computed
    union all
    select *, 'limit' as field, computed_limit as expected, reported_limit as actual
    from computed
),

final as (
    select
        'card_balance_mismatch' as check_name,
        provider,
        account_id,
        'card' as entity_type,
        card_id as entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        currency,
        cast(expected as decimal(38, 8)) as expected,
        cast(actual as decimal(38, 8)) as actual,
        cast(actual - expected as decimal(38, 8)) as difference,
        format(
            'Card {} (…{}) reports {} {} at {}, but its orders and trades give {}.',
            card_id, coalesce(card_last4, '????'),
            case field when 'limit' then 'cumulative top-ups (limit)' else 'balance' end,
            actual::varchar, strftime(snapshot_at, '%Y-%m-%d %H:%M:%S'), expected::varchar
        ) as detail,
        false as is_pending,
        card_id || ':' || field as break_key,
        _source_file as source_file,
        tail_from as window_start,
        snapshot_at as window_end
    from fields
    where actual <> expected
)

select * from final

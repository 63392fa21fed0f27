-- Landed day windows whose stored rows differ from the total the API reported for them: rows stored for the window by their booking time, plus rows refused at landing.
-- Grain: one row per window that differs (provider, entity, account_id, window_start).
with windows as (
    select * from landed_windows
),

transactions as (
    select * from stg_openapi__transactions
),

card_trades as (
    select * from stg_openapi__card_trades
),

orders as (
    select * from stg_openapi__orders
),

balance_records as (
    select * from stg_jt__balance_records
),

booked as (
    -- Each windowed entity by the time its API window filters on.
    select provider, 'transactions' as entity, account_id, transaction_time as booked_at
    from transactions
    union all
    select provider, 'card_trades' as entity, account_id, trade_time as booked_at
    from card_trades
    union all
    select provider, 'orders' as entity, account_id, created_at as booked_at
    from orders
    union all
    select provider, 'balance_records' as entity, account_id, created_at as booked_at
    from balance_records
),

stored as (
    select
        windows.provider,
        windows.entity,
        windows.account_id,
        windows.window_start,
        count(booked.booked_at) as stored_rows
    from windows
    left join booked
        on booked.provider = windows.provider
        and booked.entity = windows.entity
        and booked.account_id = windows.account_id
        and booked.booked_at >= windows.window_start
        and booked.booked_at < windows.window_end
    group by all
),

compared as (
    select
        windows.*,
        stored.stored_rows,
        stored.stored_rows + windows.quarantined_rows as accounted_rows
    from windows
    inner join stored
        on stored.provider = windows.provider
        and stored.entity = windows.entity
        and stored.account_id = windows.account_id
        and stored.window_start = windows.window_start
),

final as (
    select
        'incomplete_window' as check_name,
        provider,
        account_id,
        'window' as entity_type,
        concat_ws(':', entity, account_id, strftime(window_start, '%Y-%m-%d')) as entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        cast(null as varchar) as currency,
        cast(api_total as decimal(38, 8)) as expected,
        cast(accounted_rows as decimal(38, 8)) as actual,
        cast(accounted_rows - api_total as decimal(38, 8)) as difference,
        format(
            'The API reported {} {} rows for {} {} [{}, {}), but {} are stored for it ({} '
            || 'loaded, {} refused at landing).',
            api_total::varchar, entity, provider, account_id,
            strftime(window_start, '%Y-%m-%d %H:%M:%S'), strftime(window_end, '%Y-%m-%d %H:%M:%S'),
            accounted_rows::varchar, stored_rows::varchar, quarantined_rows::varchar
        ) as detail,
        false as is_pending,
        concat_ws(':', entity, strftime(window_start, '%Y-%m-%d')) as break_key,
        source_file,
        window_start,
        window_end
    from compared
    where accounted_rows <> api_total
)

select * from final

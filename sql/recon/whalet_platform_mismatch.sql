-- Whalet platform balances that differ from the sum of the users' balances, per fund source and currency, when every user of the platform is configured.
-- Grain: one row per platform balance record (account_id = partner, fund_source, currency) of the latest reading.
with user_balances as (
    select * from stg_whalet__balances
),

platform_balances as (
    select * from stg_whalet__platform_balances
),

settings as (
    select * from recon_settings
),

users_complete as (
    -- Whalet lists no users: only the deployment knows whether WHALET_USER_IDS names every
    -- user of the platform. Without that the sums cannot tell anything (no finding; the
    -- check's result says so).
    select coalesce(max(value), 0) = 1 as is_complete
    from settings
    where setting = 'whalet_users_complete'
),

latest_users as (
    -- One reading holds every configured user (as money_unit_mismatch reads it).
    select *
    from user_balances
    qualify snapshot_at = max(snapshot_at) over (partition by provider)
),

user_sums as (
    select
        provider,
        fund_source,
        currency,
        sum(balance_amount) as users_balance,
        count(distinct account_id) as users
    from latest_users
    group by all
),

latest_platform as (
    select *
    from platform_balances
    qualify snapshot_at = max(snapshot_at) over (partition by provider, account_id)
),

compared as (
    -- A currency the users hold but the platform does not report counts as 0 on the
    -- platform's side, and the other way round; both readings must exist.
    select
        coalesce(latest_platform.provider, user_sums.provider) as provider,
        coalesce(latest_platform.fund_source, user_sums.fund_source) as fund_source,
        coalesce(latest_platform.currency, user_sums.currency) as currency,
        latest_platform.account_id,
        coalesce(latest_platform.balance_amount, 0) as platform_balance,
        coalesce(user_sums.users_balance, 0) as users_balance,
        coalesce(user_sums.users, 0) as users,
        latest_platform.snapshot_at,
        latest_platform._source_file
    from latest_platform
    full outer join user_sums
        on latest_platform.provider = user_sums.provider
        and latest_platform.fund_source = user_sums.fund_source
        and latest_platform.currency = user_sums.currency
),

partners as (
    -- The platform's partner id, for the users' records the platform does not report.
    select provider, any_value(account_id) as account_id, max(snapshot_at) as snapshot_at,
        any_value(_source_file) as _source_file
    from latest_platform
    group by provider
),

final as (
    select
        'whalet_platform_mismatch' as check_name,
        compared.provider,
        partners.account_id,
        'platform' as entity_type,
        compared.fund_source || ':' || compared.currency as entity_id,
        cast(null as varchar) as transaction_id,
        cast(null as varchar) as related_transaction_id,
        compared.currency,
        cast(compared.users_balance as decimal(38, 8)) as expected,
        cast(compared.platform_balance as decimal(38, 8)) as actual,
        cast(compared.platform_balance - compared.users_balance as decimal(38, 8))
            as difference,
        format(
            'Whalet reports a platform {} {} balance of {} at {}, but its {} user(s) hold {} '
            || 'together.',
            compared.fund_source, compared.currency, compared.platform_text,
            strftime(partners.snapshot_at, '%Y-%m-%d %H:%M:%S'), compared.users,
            compared.users_text
        ) as detail,
        false as is_pending,
        compared.fund_source || ':' || compared.currency as break_key,
        coalesce(compared._source_file, partners._source_file) as source_file,
        partners.snapshot_at as window_start,
        partners.snapshot_at as window_end
    from (
        select
            *,
            -- Amounts land with 8 decimals; the sentence shows them as Whalet wrote them
            -- (2 decimals unless there were more), as money_unit_mismatch does.
            case
                when platform_balance = round(platform_balance, 2)
                    then cast(platform_balance as decimal(24, 2))::varchar
                else platform_balance::varchar
            end as platform_text,
            case
                when users_balance = round(users_balance, 2)
                    then cast(users_balance as decimal(24, 2))::varchar
                else users_balance::varchar
            end as users_text
        from compared
    ) as compared
    inner join partners on compared.provider = partners.provider
    cross join users_complete
    where users_complete.is_complete
        and exists (select 1 from user_sums)
        and compared.platform_balance <> compared.users_balance
)

select * from final

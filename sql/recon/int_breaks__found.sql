-- Every finding of every check in this run, with its severity and a stable break_id.
-- Grain: one row per finding (check_name, provider, account_id, entity_id, break_key).
with findings as (
    select * from entry_arithmetic
    union all by name
    select * from chain_gap
    union all by name
    select * from duplicate_entry
    union all by name
    select * from wallet_balance_mismatch
    union all by name
    select * from fx_missing_leg
    union all by name
    select * from fx_amount_mismatch
    union all by name
    select * from fx_rate_deviation
    union all by name
    select * from order_debit_missing
    union all by name
    select * from order_debit_mismatch
    union all by name
    select * from card_balance_mismatch
    union all by name
    select * from refund_exceeds_origin
    union all by name
    select * from refund_without_origin
    union all by name
    select * from payment_fee_mismatch
    union all by name
    select * from payment_return_missing
    union all by name
    select * from closed_card_balance
    union all by name
    select * from wallet_freeze_mismatch
    union all by name
    select * from transfer_unmatched
    union all by name
    select * from transfer_amount_mismatch
    union all by name
    select * from jt_balance_composition
    union all by name
    select * from money_unit_mismatch
    union all by name
    select * from whalet_platform_mismatch
    union all by name
    select * from incomplete_window
    union all by name
    select * from stale_source
),

checks as (
    select * from recon_checks
),

final as (
    select
        -- The identity of what is broken, never amounts or run times: the same finding
        -- tomorrow keeps its id (reconciliation.md §4).
        substr(md5(concat_ws(
            '|', findings.check_name, findings.provider, findings.account_id,
            findings.entity_id, findings.break_key
        )), 1, 16) as break_id,
        findings.check_name,
        checks.severity,
        findings.provider,
        findings.account_id,
        findings.entity_type,
        findings.entity_id,
        findings.transaction_id,
        findings.related_transaction_id,
        findings.currency,
        findings.expected,
        findings.actual,
        findings.difference,
        findings.detail,
        findings.is_pending,
        findings.source_file,
        findings.window_start,
        findings.window_end
    from findings
    inner join checks on findings.check_name = checks.check_name
)

select * from final

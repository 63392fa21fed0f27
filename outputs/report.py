"""The reconciliation report: one self-contained HTML page from the published warehouse.

Four views: breaks by check, provider and day; open breaks after each run; each wallet
with breaks, its balance along the ledger chain with the breaks marked; and coverage, how much
of the ledger the checks vouch for (fct_coverage). Charts are inline SVG
and the style sheet is inline: the file opens with no network. The headline gives the amount at
risk per currency and, with `RECON_UI_URL`, links into the triage app. Every value from the
data is HTML-escaped, since provider text reaches `detail` and the ids unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import duckdb

from outputs.amounts import money
from outputs.report_data import MAX_POINTS, MAX_WALLETS, ReportData, Wallet, load_report
from outputs.report_svg import STATUS_COLOURS, balance_svg, esc, runs_svg
from outputs.report_tables import table, unplaced_table, wallet_breaks_table
from store.files import write_atomically

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f;
  margin: 0 auto; max-width: 1320px; padding: 16px 28px 48px; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 26px 0 4px; }
p.meta, p.note { color: #555; margin: 4px 0; }
.totals { display: flex; gap: 12px; margin: 12px 0; }
.total { border: 1px solid #ddd; border-radius: 6px; padding: 6px 14px; min-width: 110px; }
.total b { display: block; font-size: 22px; }
table { border-collapse: collapse; margin: 8px 0 12px; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 10px; text-align: left;
  vertical-align: top; }
th { background: #f5f5f7; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.id, span.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px;
  overflow-wrap: anywhere; min-width: 11em; max-width: 340px; }
td.detail { min-width: 18em; overflow-wrap: anywhere; }
.status { font-weight: 600; }
.status.open { color: #c62828; } .status.pending { color: #b06f00; }
.status.resolved { color: #666; }
svg.chart { width: 100%; height: auto; display: block; font-size: 12px; }
svg.chart text { fill: #333; } svg.chart text.value { font-weight: 600; }
svg.chart text.unit { font-weight: 600; }
svg.chart .grid { stroke: #eee; } svg.chart .axis { stroke: #999; }
svg.chart .balance-line { fill: none; stroke: #1f5fa8; stroke-width: 1.5; }
svg.chart .mark-line { stroke-dasharray: 3 3; opacity: 0.55; }
svg.chart text.mark-label { font-weight: 700; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 11px; height: 11px; margin-right: 4px;
  vertical-align: -1px; }
article.wallet { border-top: 1px solid #eee; }
"""

DAY_RULE = (
    "A break's day is the booking day of the ledger entry it names (provider clock); a break "
    "naming no entry counts on the day its data window starts (card tie-outs: where the tails "
    "read with the card snapshot start; JT users and totals, Whalet: when they were read), and "
    "failing that the day a run first found it (UTC)."
)


def utc(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") + " UTC"


def at_risk_line(data: ReportData, ui_url: str | None) -> str:
    def linked(currency: str, text: str) -> str:
        if not ui_url:
            return text
        query = urlencode({"status": "open", "currency": currency, "sort": "difference"})
        return f'<a href="{esc(ui_url.rstrip("/"))}/?{esc(query)}">{text}</a>'

    amounts = ", ".join(
        linked(c, f"<b>{esc(money(a, c, 'money'))}</b> ({n} breaks)") for c, a, n in data.at_risk
    )
    return (
        '<p class="meta" id="at-risk">Amount at risk, the sum of the absolute differences of '
        f"the open breaks per currency (money checks only): {amounts or 'none'}.</p>"
    )


def header(data: ReportData, generated_at: datetime, ui_url: str | None = None) -> str:
    pub = data.publication
    run = (
        f"Reflects run <code>{esc(pub.run_id)}</code> at {esc(utc(pub.run_at))}, published "
        f"{esc(utc(pub.published_at))}."
        if pub
        else "The warehouse names no publication (no recon_publication table)."
    )
    app_link = (
        f'<p class="meta"><a id="app-link" href="{esc(ui_url)}">Work the breaks in the triage '
        "app</a> (acknowledge, assign, explain, export).</p>"
        if ui_url
        else ""
    )
    totals = "".join(
        f'<div class="total" data-status="{s}"><span class="status {s}">{s}</span><b>{n}</b></div>'
        for s, n in data.totals.items()
    )
    return (
        "<header><h1>Reconciliation report</h1>"
        f'<p class="meta">{run} Generated {esc(utc(generated_at))}.</p>'
        f'<div class="totals">{totals}</div>{at_risk_line(data, ui_url)}'
        '<p class="meta">Breaks of every check in fct_breaks, by status. '
        "docs/checks.md explains each check; docs/report.md explains this page.</p>"
        f"{app_link}</header>"
    )


def by_check_section(data: ReportData) -> str:
    summary = table(
        ["check", "provider", "severity", "open", "pending", "resolved", "open amounts"],
        [
            [
                esc(s.check_name),
                esc(s.provider),
                esc(s.severity),
                str(s.open_breaks),
                str(s.pending),
                str(s.resolved),
                esc(s.open_amounts),
            ]
            for s in data.summary
        ],
        dict.fromkeys((3, 4, 5), "n"),
    )
    days = table(
        ["check", "provider", "day", "open", "pending", "resolved", "all"],
        [
            [
                esc(d.check_name),
                esc(d.provider),
                esc(d.day.isoformat()),
                str(d.open_breaks),
                str(d.pending),
                str(d.resolved),
                str(d.breaks),
            ]
            for d in data.by_day
        ],
        dict.fromkeys((3, 4, 5, 6), "n"),
    )
    empty = '<p class="note">No breaks: every check passed.</p>' if not data.summary else ""
    return (
        '<section id="by-check"><h2>1. Breaks by check, provider and day</h2>'
        f'{empty}<h3>By check and provider</h3><div class="by-check-provider">{summary}</div>'
        f'<h3>By day</h3><p class="note">{esc(DAY_RULE)}</p><div class="by-day">{days}</div>'
        "</section>"
    )


def _legend() -> str:
    return (
        '<p class="legend">'
        + "".join(
            f'<span><i style="background:{c}"></i>{s}</span>' for s, c in STATUS_COLOURS.items()
        )
        + "</p>"
    )


def over_time_section(data: ReportData) -> str:
    if not data.runs:
        chart = '<p class="note">No reconcile run is recorded in fct_break_counts yet.</p>'
    else:
        chart = runs_svg(data.runs)
    return (
        '<section id="over-time"><h2>2. Open breaks over time</h2>'
        '<p class="note">One bar per reconcile run (fct_break_counts, all checks together), in '
        "run order and evenly spaced, labelled with the run time (UTC): open breaks, with pending "
        "breaks stacked on top (the number after +). Hover a bar for what the run opened and "
        f"resolved.</p>{_legend()}{chart}</section>"
    )


def wallet_article(wallet: Wallet) -> str:
    shown = (
        f"{len(wallet.points)} of {wallet.entries} entries"
        if wallet.downsampled
        else (f"all {wallet.entries} entries")
    )
    sampled = (
        " Downsampled: per stretch of entries its lowest and highest balance, plus the first, "
        "the last and every entry a break is marked at."
        if wallet.downsampled
        else ""
    )
    return (
        f'<article class="wallet" data-wallet-key="{esc(wallet.wallet_key)}" '
        f'data-provider="{esc(wallet.provider)}" data-account-id="{esc(wallet.account_id)}">'
        f"<h3>{esc(wallet.provider)} · account {esc(wallet.account_id)} · wallet "
        f"{esc(wallet.wallet_name)}</h3>"
        f'<p class="meta">Wallet key <code>{esc(wallet.wallet_key)}</code>; balance in '
        f"{esc(wallet.currency)}; {wallet.open_breaks} open of {wallet.breaks} breaks; the chart "
        f"shows {shown}.{sampled}</p>"
        f"{balance_svg(wallet)}{wallet_breaks_table(wallet.marks)}</article>"
    )


def wallets_section(data: ReportData) -> str:
    capped = (
        f" Showing the {len(data.wallets)} wallets with the most open breaks (then most breaks) "
        f"of {data.wallets_with_breaks} wallets with breaks."
        if data.wallets_with_breaks > len(data.wallets)
        else ""
    )
    sampled = sum(1 for w in data.wallets if w.downsampled)
    sampled_note = (
        f" {sampled} of the charts are downsampled to about {data.max_points} points each "
        "(each says so)."
        if sampled
        else ""
    )
    articles = "".join(wallet_article(w) for w in data.wallets) or (
        '<p class="note">No break concerns a ledger wallet.</p>'
    )
    unplaced = unplaced_table(data.unplaced) if data.unplaced else '<p class="note">None.</p>'
    return (
        '<section id="wallets"><h2>3. Wallet balances with their breaks</h2>'
        '<p class="note">Each ledger wallet with a break: its balance after each entry '
        "(after_balance, fct_ledger_entries) along the chain, over booking time (provider clock). "
        "A numbered marker sits at the entry each break concerns: the entry after a chain gap, the "
        "chain's last entry for a balance tie-out, the entry itself, the exchange leg in the "
        "break's currency (the leg that exists when one is missing), the entry booked for a "
        "card order; a JT user's balance composition at the user's last entry. Marker colour is "
        f"the break's status.{capped}{sampled_note}</p>{_legend()}"
        f'<div class="wallets">{articles}</div>'
        "<h3>Breaks with no ledger wallet</h3>"
        '<p class="note">Card balances, card orders that booked no wallet entry, JT totals and '
        "Whalet money objects have no ledger chain to chart.</p>"
        f'<div class="unplaced">{unplaced}</div></section>'
    )


def _share(value: Decimal | None) -> str:
    return "" if value is None else f"{value}%"


def coverage_section(data: ReportData) -> str:
    rows = [
        [
            esc(c.provider),
            esc(c.account_id),
            esc(c.currency),
            f"{esc(c.first_day.isoformat())} to {esc(c.last_day.isoformat())} ({c.days})",
            str(c.entries),
            esc(money(c.volume, c.currency, "money")),
            _share(c.volume_share("chain")),
            _share(c.volume_share("fx")),
            _share(c.volume_share("order")),
            f"{c.complete_days} of {c.days}",
            "" if c.max_hours_to_landing is None else str(c.max_hours_to_landing),
        ]
        for c in data.coverage
    ]
    headers = [
        "provider", "account", "currency", "days", "entries", "volume", "chain-linked",
        "FX-paired", "order-matched", "days complete", "max hours to landing",
    ]  # fmt: skip
    body = (
        table(headers, rows, dict.fromkeys((4, 5, 6, 7, 8, 9, 10), "n"))
        if rows
        else '<p class="note">No coverage in this warehouse (no ledger entries, or published '
        "before fct_coverage existed).</p>"
    )
    return (
        '<section id="coverage"><h2>4. Coverage: what the checks vouch for</h2>'
        '<p class="note">Per provider account and currency over the loaded days (fct_coverage, '
        "one row per day there): the share of the volume verified by a chain link on both "
        "sides, by an exchange pairing and by an order match (an entry may count in several); "
        "the days whose windows all landed complete; the longest wait from a day's end to its "
        "ledger landing, in hours.</p>"
        f'<div class="coverage">{body}</div></section>'
    )


def render_report(data: ReportData, generated_at: datetime, ui_url: str | None = None) -> str:
    body = "".join(
        (
            header(data, generated_at, ui_url),
            by_check_section(data),
            over_time_section(data),
            wallets_section(data),
            coverage_section(data),
        )
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Reconciliation report</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def write_report(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    generated_at: datetime | None = None,
    max_wallets: int = MAX_WALLETS,
    max_points: int = MAX_POINTS,
    ui_url: str | None = None,
) -> Path:
    """Write the report of the warehouse `con` to `out` (atomically: a reader never sees half)."""
    data = load_report(con, max_wallets, max_points)
    page = render_report(data, generated_at or datetime.now(UTC), ui_url)
    return write_atomically(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))

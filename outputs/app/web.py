"""The triage app: a server-rendered Starlette app over the published snapshot (read-only)
and the workflow store (issue 16; docs/analyst-guide.md#the-triage-app).

No JavaScript anywhere: pages are HTML forms and links, so the content security policy
forbids scripts outright. Every value is escaped by Jinja's autoescape; every form carries the
session's CSRF token and a post without it is refused; writing needs a signed-in user.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from outputs import exports
from outputs.amounts import money
from outputs.app import queue as q
from outputs.app.auth import AppSettings, SignInLimiter, verify_password
from outputs.app.snapshot import (
    NotPublished,
    break_view,
    coverage,
    open_snapshot,
    publication,
    queue_rows,
    runs,
)
from outputs.report import STYLE
from outputs.report_svg import balance_svg, runs_svg
from store.workflow import ACTIONS, WORKFLOW_STATUSES, Action, current, fold
from store.workflow_store import WorkflowError, WorkflowStore

TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_HOURS = 12
# No script may run, nothing may frame the app, forms post to the app only.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}

log = logging.getLogger("recon.ui")


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["money"] = lambda v, currency, unit: money(v, currency, unit)
    env.filters["exact"] = lambda v: "" if v is None else str(v)
    env.filters["when"] = lambda v: "" if v is None else v.strftime("%Y-%m-%d %H:%M:%S")
    return env


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response


def build_app(settings: AppSettings) -> Starlette:
    env = _env()
    store = WorkflowStore(settings.workflow_url)
    limiter = SignInLimiter()

    def user(request: Request) -> str | None:
        if settings.trusted_header:
            proxied = request.headers.get(settings.trusted_header, "").strip()
            return proxied or None
        name = request.session.get("user")
        return name if isinstance(name, str) and name in settings.users else None

    def csrf(request: Request) -> str:
        token = request.session.get("csrf")
        if isinstance(token, str):
            return token
        fresh = secrets.token_urlsafe(32)
        request.session["csrf"] = fresh
        return fresh

    def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
        page = env.get_template(template).render(
            style=Markup(STYLE),
            user=user(request),
            csrf=csrf(request),
            password_login=settings.trusted_header is None,
            **context,
        )
        return HTMLResponse(page, status_code=status)

    def refuse(request: Request, status: int, message: str) -> Response:
        return render(request, "message.html", status=status, message=message)

    def may_read(request: Request) -> bool:
        return not settings.protect_reads or user(request) is not None

    def to_login(request: Request) -> Response:
        return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", 303)

    def queue_data(
        request: Request,
    ) -> tuple[q.Filters, list[dict[str, Any]], list[dict[str, Any]]]:
        filters = q.Filters.from_query(dict(request.query_params))
        with open_snapshot(settings.published) as con:
            rows = queue_rows(con)
        everything = q.with_workflow(rows, fold(store.actions()))
        return filters, everything, q.select(everything, filters)

    async def queue_page(request: Request) -> Response:
        if not may_read(request):
            return to_login(request)
        try:
            filters, everything, selected = queue_data(request)
        except ValueError as exc:
            return refuse(request, 400, str(exc))
        with open_snapshot(settings.published) as con:
            trend, pub = runs(con), publication(con)
        shown = q.page(selected, filters.page)
        return render(
            request,
            "queue.html",
            f=filters,
            page=shown,
            headline=q.headline(everything),
            trend=Markup(runs_svg(trend)) if trend else None,
            publication=pub,
            options={
                "status": ["open", "pending"],
                "workflow_status": list(WORKFLOW_STATUSES),
                "check": q.choices(everything, "check_name"),
                "provider": q.choices(everything, "provider"),
                "account": q.choices(everything, "account_id"),
                "currency": q.choices(everything, "currency"),
                "owner": q.choices(everything, "owner"),
                "age": [name for name, *_ in q.AGE_BUCKETS],
            },
            sorts=q.SORTS,
            link=lambda **change: "?" + urlencode(filters.query(**change)),
            export=lambda kind: f"/export.{kind}?" + urlencode(filters.query(page=1)),
        )

    async def break_page(request: Request) -> Response:
        if not may_read(request):
            return to_login(request)
        break_id = request.path_params["break_id"]
        with open_snapshot(settings.published) as con:
            view = break_view(con, break_id)
        if view is None:
            return refuse(request, 404, f"No break {break_id} in the published warehouse.")
        actions = store.actions(break_id)
        b = view.brk
        state = current(fold(actions).get(break_id), (b["expected"], b["actual"], b["difference"]))
        history = sorted(
            [dict(e, kind="run") for e in view.events]
            + [
                {
                    "event_at": a.at, "event": a.action, "status": a.status,
                    "expected": a.expected, "actual": a.actual, "difference": a.difference,
                    "detail": a.note or "", "actor": a.actor, "kind": "person",
                    "reason_code": a.reason_code, "owner": a.owner,
                }
                for a in actions
            ],
            key=lambda e: e["event_at"],
        )  # fmt: skip
        chart = balance_svg(view.wallet) if view.wallet is not None and view.wallet.points else None
        return render(
            request,
            "break.html",
            view=view,
            b=b,
            state=state,
            history=history,
            chart=Markup(chart) if chart else None,
            reason_codes=settings.reason_codes,
        )

    async def act(request: Request) -> Response:
        form = await request.form()
        if not hmac.compare_digest(str(form.get("csrf", "")), csrf(request)):
            return refuse(request, 403, "This form has expired or did not come from this app.")
        who = user(request)
        if who is None:
            return refuse(request, 403, "Sign in to act on breaks.")
        break_id = request.path_params["break_id"]
        kind = str(form.get("action", ""))
        if kind not in ACTIONS:
            return refuse(request, 400, "Unknown action.")
        with open_snapshot(settings.published) as con:
            view = break_view(con, break_id)
        if view is None:
            return refuse(request, 404, f"No break {break_id} in the published warehouse.")
        b = view.brk
        action = Action(
            break_id=break_id,
            action=kind,
            actor=who,
            at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            note=str(form.get("note", "")),
            owner=str(form.get("owner", "")),
            reason_code=str(form.get("reason_code", "")) or None,
            status=b["status"],
            expected=b["expected"],
            actual=b["actual"],
            difference=b["difference"],
        )
        try:
            store.record(action, settings.reason_codes)
        except ValueError as exc:
            return refuse(request, 400, str(exc))
        return RedirectResponse(f"/breaks/{break_id}", 303)

    async def login(request: Request) -> Response:
        target = request.query_params.get("next", "/")
        target = target if target.startswith("/") and not target.startswith("//") else "/"
        if request.method == "GET":
            return render(request, "login.html", next=target, failed=False)
        form = await request.form()
        if not hmac.compare_digest(str(form.get("csrf", "")), csrf(request)):
            return refuse(request, 403, "This form has expired or did not come from this app.")
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        wait = limiter.wait_seconds(name)
        if wait:
            # Refused before the password is looked at: a right guess now tells nothing.
            minutes = (wait + 59) // 60
            return render(
                request, "login.html", status=429, next=target, failed=False, locked=minutes
            )
        stored = settings.users.get(name)
        if stored is None or not verify_password(password, stored):
            limiter.failed(name)
            log.warning("failed sign-in for a user name (%d characters)", len(name))
            return render(request, "login.html", status=401, next=target, failed=True)
        limiter.succeeded(name)
        request.session.clear()  # a new session on sign-in: no fixation
        request.session["user"] = name
        return RedirectResponse(target, 303)

    async def logout(request: Request) -> Response:
        form = await request.form()
        if not hmac.compare_digest(str(form.get("csrf", "")), csrf(request)):
            return refuse(request, 403, "This form has expired or did not come from this app.")
        request.session.clear()
        return RedirectResponse("/", 303)

    async def coverage_page(request: Request) -> Response:
        if not may_read(request):
            return to_login(request)
        with open_snapshot(settings.published) as con:
            rows, pub = coverage(con), publication(con)
        return render(request, "coverage.html", rows=rows, publication=pub)

    async def export(request: Request) -> Response:
        if not may_read(request):
            return to_login(request)
        kind = request.path_params["kind"]
        try:
            _, _, selected = queue_data(request)
        except ValueError as exc:
            return refuse(request, 400, str(exc))
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        if kind == "csv":
            body, media = exports.to_csv(selected), "text/csv; charset=utf-8"
        elif kind == "xlsx":
            body = exports.to_xlsx(selected)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            return refuse(request, 404, "Exports are .csv or .xlsx.")
        disposition = f'attachment; filename="breaks-{stamp}.{kind}"'
        return Response(body, media_type=media, headers={"content-disposition": disposition})

    async def not_published(request: Request, exc: Exception) -> Response:
        return refuse(request, 503, str(exc))

    async def store_down(request: Request, exc: Exception) -> Response:
        return refuse(request, 503, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return refuse(request, status, f"{status}: nothing here at {request.url.path}.")

    return Starlette(
        routes=[
            Route("/", queue_page),
            Route("/breaks/{break_id}", break_page),
            Route("/breaks/{break_id}/act", act, methods=["POST"]),
            Route("/login", login, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/export.{kind}", export),
            Route("/coverage", coverage_page),
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie="recon_ui",
                max_age=SESSION_HOURS * 3600,
                same_site="strict",
            ),
        ],
        exception_handlers={
            NotPublished: not_published,
            WorkflowError: store_down,
            HTTPException: http_error,
        },
    )

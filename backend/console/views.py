"""Routes of the console. Handlers authenticate, check the role and CSRF, call one function of
accounts / review / fleet / figures, write the audit log, then render a template."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from backend import auth
from backend.clock import format_rfc3339
from backend.console import accounts, audit, figures, fleet, review, safeguards, sessions
from backend.console.tables import ROLES
from backend.context import Services
from backend.errors import ApiError
from kiosk.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "console_lang"
REFRESH_HEADER = "x-console-refresh"     # console.js's automatic refresh: does not count as activity
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")

REVIEW = ("reviewer",)
FLEET = ("fleet_operator", "administrator")
FIGURES = ROLES
AUDIT = ("auditor", "administrator")
ADMIN = ("administrator",)
HOME = {"reviewer": "/console/review", "fleet_operator": "/console/fleet", "auditor": "/console/audit",
        "administrator": "/console/admin/users"}
NAV = [("review", "/console/review", REVIEW), ("fleet", "/console/fleet", FLEET),
       ("safeguards", "/console/safeguards", FLEET), ("figures", "/console/figures", FIGURES), ("audit", "/console/audit", AUDIT),
       ("users", "/console/admin/users", ADMIN)]

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                          undefined=jinja2.StrictUndefined)


class NeedSignIn(Exception):
    pass


class Refused(Exception):
    def __init__(self, status: int, what: str, session: sessions.ConsoleSession | None = None) -> None:
        super().__init__(what)
        self.status, self.what, self.session = status, what, session


def language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _localtime(value: datetime | None) -> str:
    return "" if value is None else format_rfc3339(value).replace("T", " ")[:19] + " UTC"


def render(request: Request, name: str, status: int = 200, session: sessions.ConsoleSession | None = None,
           **context: Any) -> HTMLResponse:
    lang = language(request)

    def _(msgid: str, **kw: Any) -> str:
        text = translate(msgid, lang)
        return text.format(**kw) if kw else text

    nav = [(key, url) for key, url, roles in NAV if session is not None and session.staff.role in roles]
    html = _env.get_template(name).render(_=_, lang=lang, session=session, nav=nav, path=request.url.path,
                                          when=_localtime, **context)
    return secure(HTMLResponse(html, status_code=status))


def secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def mount(app: FastAPI, services: Services) -> None:
    from backend.heartbeat import router as heartbeat_router

    app.include_router(heartbeat_router(services))
    if not services.config.console.enabled:
        return
    app.include_router(_router(services))
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.exception_handler(NeedSignIn)
    async def _need_sign_in(request: Request, _exc: NeedSignIn) -> Response:
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(sessions.COOKIE, path="/console")
        return response

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return render(request, "error.html", status=exc.status, session=exc.session, what=exc.what)


def _router(services: Services) -> APIRouter:
    api = APIRouter(include_in_schema=False)
    cfg = services.config.console

    async def session_for(request: Request, roles: tuple[str, ...]) -> sessions.ConsoleSession:
        session = await run_in_threadpool(sessions.load, services, request.cookies.get(sessions.COOKIE),
                                          request.headers.get(REFRESH_HEADER) != "1")
        if session is None:
            raise NeedSignIn()
        if session.staff.role not in roles:
            await run_in_threadpool(audit.write, services, session.staff.username, session.staff.role,
                                    "page_refused", request.url.path[:80])
            raise Refused(403, "role", session)
        return session

    async def posted(request: Request, roles: tuple[str, ...]) -> tuple[sessions.ConsoleSession, Any]:
        session = await session_for(request, roles)
        form = await request.form()
        if not sessions.csrf_ok(session.csrf, form.get("csrf")):       # type: ignore[arg-type]
            await run_in_threadpool(audit.write, services, session.staff.username, session.staff.role,
                                    "csrf_refused", request.url.path[:80])
            raise Refused(403, "csrf", session)
        return session, form

    def log(session: sessions.ConsoleSession, action: str, target: str = "", detail: str = "") -> None:
        audit.write(services, session.staff.username, session.staff.role, action, target, detail)

    # -- sign-in -------------------------------------------------------------------------------
    @api.get("/console/login")
    async def login_page(request: Request) -> Response:
        token = request.cookies.get(sessions.PRE_CSRF_COOKIE) or secrets.token_urlsafe(32)
        response = render(request, "login.html", csrf=token, problem="")
        response.set_cookie(sessions.PRE_CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=cfg.cookie_secure, path="/console")
        return response

    @api.post("/console/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        expected = request.cookies.get(sessions.PRE_CSRF_COOKIE) or ""
        if not expected or not sessions.csrf_ok(expected, form.get("csrf")):      # type: ignore[arg-type]
            raise Refused(403, "csrf")
        username = str(form.get("username", ""))[:64]
        result = await run_in_threadpool(accounts.sign_in, services, username, str(form.get("password", "")),
                                         str(form.get("code", "")))
        if result.staff is None:
            who = username if result.known else "(unknown user)"     # what was typed may be anything
            await run_in_threadpool(audit.write, services, who, "-", "sign_in_refused", who, result.problem)
            return render(request, "login.html", status=401, csrf=expected, problem=result.problem)
        token, session = await run_in_threadpool(sessions.start, services, result.staff)
        await run_in_threadpool(log, session, "sign_in")
        response = RedirectResponse(HOME[session.staff.role], status_code=303)
        response.set_cookie(sessions.COOKIE, token, httponly=True, samesite="strict", secure=cfg.cookie_secure,
                            path="/console")
        response.delete_cookie(sessions.PRE_CSRF_COOKIE, path="/console")
        return response

    @api.post("/console/logout")
    async def logout(request: Request) -> Response:
        session, _form = await posted(request, ROLES)
        await run_in_threadpool(sessions.end, services, session.token_hash)
        await run_in_threadpool(log, session, "sign_out")
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(sessions.COOKIE, path="/console")
        return response

    @api.get("/console")
    @api.get("/console/")
    async def home(request: Request) -> Response:
        session = await session_for(request, ROLES)
        return RedirectResponse(HOME[session.staff.role], status_code=303)

    @api.get("/console/lang")
    async def switch_language(request: Request, to: str = DEFAULT_LANGUAGE, back: str = "/console/") -> Response:
        target = back if back.startswith("/console") and "//" not in back else "/console/"
        response = RedirectResponse(target, status_code=303)
        if to in LANGUAGES:
            response.set_cookie(LANG_COOKIE, to, samesite="lax", secure=cfg.cookie_secure, path="/console",
                                max_age=365 * 86400)
        return response

    # -- review --------------------------------------------------------------------------------
    @api.get("/console/review")
    async def review_queue(request: Request) -> Response:
        session = await session_for(request, REVIEW)
        items = await run_in_threadpool(review.queue, services)
        return render(request, "review_list.html", session=session, items=items)

    @api.get("/console/review/{record_id}")
    async def review_item(request: Request, record_id: str) -> Response:
        session = await session_for(request, REVIEW)
        item, decision = await _found(review.get, services, record_id, session=session)
        return render(request, "review_detail.html", session=session, item=item, decision=decision,
                      capture=None)

    @api.post("/console/review/{record_id}/capture")
    async def review_capture(request: Request, record_id: str) -> Response:
        session, _form = await posted(request, REVIEW)
        item, decision = await _found(review.get, services, record_id, session=session)
        jpeg = await _found(review.open_capture, services, record_id, session=session)
        await run_in_threadpool(log, session, "capture_viewed", record_id)
        data = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
        return render(request, "review_detail.html", session=session, item=item, decision=decision, capture=data)

    @api.post("/console/review/{record_id}/decision")
    async def review_decide(request: Request, record_id: str) -> Response:
        session, form = await posted(request, REVIEW)
        choice = {"approve": "approved", "reject": "rejected"}.get(str(form.get("decision", "")), "")
        await _found(review.decide, services, record_id, choice, str(form.get("reason", "")),
                     session.staff.username, session=session)
        await run_in_threadpool(log, session, "review_decided", record_id, choice)
        return RedirectResponse(f"/console/review/{quote(record_id)}", status_code=303)

    async def _found(fn: Callable[..., Any], *args: Any, session: sessions.ConsoleSession) -> Any:
        """Run a service call; its refusal (unknown record, decided already) becomes an error page."""
        try:
            return await run_in_threadpool(fn, *args)
        except ApiError as exc:
            raise Refused(exc.status, exc.reason, session) from None

    # -- fleet ---------------------------------------------------------------------------------
    @api.get("/console/fleet")
    async def fleet_page(request: Request) -> Response:
        session = await session_for(request, FLEET)
        kiosks = await run_in_threadpool(fleet.overview, services)
        return render(request, "fleet.html", session=session, kiosks=kiosks, cfg=cfg)

    @api.get("/console/fleet/{kiosk_id}")
    async def kiosk_page(request: Request, kiosk_id: str) -> Response:
        session = await session_for(request, FLEET)
        state, beats = await run_in_threadpool(fleet.history, services, kiosk_id)
        return render(request, "kiosk.html", session=session, k=state, beats=beats)

    # -- safeguards: lockouts (with lift) and person data refused outside a visit -------------
    @api.get("/console/safeguards")
    async def safeguards_page(request: Request, lifted: str = "", gone: str = "") -> Response:
        session = await session_for(request, FLEET)
        state = await run_in_threadpool(safeguards.overview, services)
        return render(request, "safeguards.html", session=session, lifted=lifted == "1", gone=gone == "1", **state)

    @api.post("/console/safeguards/lift")
    async def safeguards_lift(request: Request) -> Response:
        session, form = await posted(request, FLEET)
        done = await run_in_threadpool(safeguards.lift, services, str(form.get("ref", ""))[:64])
        if done is None:
            return RedirectResponse("/console/safeguards?gone=1", status_code=303)
        await run_in_threadpool(log, session, "lockout_lifted", f"{done['kind']} {done['subject_masked']}",
                                "".join(ch for ch in str(form.get("reason", ""))[:200] if ch.isprintable()))
        return RedirectResponse("/console/safeguards?lifted=1", status_code=303)

    # -- figures -------------------------------------------------------------------------------
    @api.get("/console/figures")
    async def figures_page(request: Request) -> Response:
        session = await session_for(request, FIGURES)
        lang = language(request)
        fig = await run_in_threadpool(figures.compute, services)
        charts = {
            "per_day": figures.per_day_chart(fig, translate("Services per day", lang), translate("all services", lang),
                                             translate("certifications", lang)),
            "per_kiosk": figures.per_kiosk_chart(fig, translate("Services per kiosk", lang),
                                                 translate("services", lang)),
            "decision": figures.decision_time_chart(fig, translate("Face decision time", lang),
                                                    translate("certifications", lang)),
        }
        return render(request, "figures.html", session=session, fig=fig, charts=charts)

    @api.get("/console/figures.csv")
    async def figures_csv(request: Request) -> Response:
        session = await session_for(request, FIGURES)
        fig = await run_in_threadpool(figures.compute, services)
        await run_in_threadpool(log, session, "figures_exported")
        day = services.clock().date().isoformat()
        return secure(Response(figures.to_csv(fig), media_type="text/csv; charset=utf-8",
                               headers={"Content-Disposition": f'attachment; filename="figures-{day}.csv"'}))

    # -- audit (read only: there is no route that changes it, and the database refuses) ---------
    @api.get("/console/audit")
    async def audit_page(request: Request) -> Response:
        session = await session_for(request, AUDIT)
        rows = await run_in_threadpool(audit.recent, services)
        return render(request, "audit.html", session=session, rows=rows)

    # -- administration ------------------------------------------------------------------------
    @api.get("/console/admin/users")
    async def users_page(request: Request) -> Response:
        session = await session_for(request, ADMIN)
        users = await run_in_threadpool(accounts.list_users, services)
        return render(request, "users.html", session=session, users=users, roles=ROLES, created=None, problem="")

    @api.post("/console/admin/users")
    async def create_user(request: Request) -> Response:
        session, form = await posted(request, ADMIN)
        username = str(form.get("username", ""))
        try:
            secret = await run_in_threadpool(accounts.create_user, services, username,
                                              str(form.get("display_name", "")), str(form.get("role", "")),
                                              str(form.get("password", "")))
        except accounts.AccountError as exc:
            users = await run_in_threadpool(accounts.list_users, services)
            return render(request, "users.html", status=422, session=session, users=users, roles=ROLES,
                          created=None, problem=str(exc))
        await run_in_threadpool(log, session, "user_created", username, str(form.get("role", "")))
        users = await run_in_threadpool(accounts.list_users, services)
        created = {"username": username, "secret": secret, "uri": accounts.provisioning_uri(secret, username)}
        return render(request, "users.html", session=session, users=users, roles=ROLES, created=created, problem="")

    @api.post("/console/admin/users/{username}/active")
    async def set_active(request: Request, username: str) -> Response:
        session, form = await posted(request, ADMIN)
        active = form.get("active") == "1"
        await run_in_threadpool(accounts.set_active, services, username, active)
        await run_in_threadpool(log, session, "user_enabled" if active else "user_disabled", username)
        return RedirectResponse("/console/admin/users", status_code=303)

    # -- machine-to-machine: where a decision flows back ---------------------------------------
    @api.get("/v1/operator/review-decisions", include_in_schema=True, tags=["operator"])
    def operator_decisions(request: Request, kiosk: str | None = None) -> JSONResponse:
        """Reviewers' decisions on flagged certifications (for reports)."""
        auth.check_operator(services, request.headers.get("authorization"))
        return JSONResponse({"decisions": [_decision_json(d) for d in review.decisions(services, kiosk)]})

    @api.get("/v1/kiosks/review-decisions", include_in_schema=True, tags=["kiosk"])
    async def kiosk_decisions(request: Request) -> JSONResponse:
        """The decisions on this kiosk's records (signed request), so the field day report can show them."""
        target = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.scope.get("query_string"):
            target += "?" + request.scope["query_string"].decode("latin-1")
        kiosk_id = await run_in_threadpool(auth.check_kiosk_request, services, request.headers, request.method,
                                           target, b"")
        rows = await run_in_threadpool(review.decisions, services, kiosk_id)
        return JSONResponse({"decisions": [_decision_json(d) for d in rows]})

    return api


def _decision_json(d: dict[str, Any]) -> dict[str, Any]:
    return {"record_id": d["record_id"], "kiosk_id": d["kiosk_id"], "decision": d["decision"],
            "reason": d["reason"], "decided_by": d["decided_by"], "decided_at": format_rfc3339(d["decided_at"]),
            "certified_until": d["certified_until"].isoformat() if d["certified_until"] else None}

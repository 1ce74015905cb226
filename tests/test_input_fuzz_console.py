"""Hostile input on every console and public page route: never a 5xx, a page, nothing changed.

The forms are walked from the route table: every route that reads a form (or
posts without one) is listed below with a form it accepts, and each field gets
the hostile values of its kind — NUL, digits that ``str.isdigit()`` takes but
``int()`` does not ("²"), ids past 2**63-1, years 1 and 9999, bytes that are
not UTF-8 — one at a time. Path and query parameters of every page route get
the same. A refused form commits nothing (issue 7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import quote, quote_from_bytes
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.config import Settings
from input_hostile import URL_INTEGER, URL_TEXT, Bad, Runner
from input_world import CSRF, World, build
from notice_texts import RESOLUTION_JA, UPDATE_JA
from route_table import RouteInfo, api_routes

FORM = "application/x-www-form-urlencoded"
NEXT_WEEK = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
# A prevention action's due day, and an effect check's day (the action was done today).
DUE_ON = (dt.date.today() + dt.timedelta(days=30)).isoformat()
CHECKED_ON = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()  # the team's zone
Form = dict[str, str | list[str]]
DEPARTMENT_FIELDS = {
    name: "text"
    for name in (
        "key", "name_ja", "name_en", "email", "locale", "webhook_url", "intents",
        "components", "tiers",
    )
}  # fmt: skip

# Values a person could type, as the form sends them (bytes: what the browser encodes).
FORM_TEXT: tuple[Bad, ...] = (
    Bad("NUL", "a\x00b"),
    Bad("very long", "長" * 20_001, refuse=False),
    Bad("superscript digit", "²", refuse=False),
    Bad("Arabic-Indic digits", "١٢", refuse=False),
    Bad("surrogate as UTF-8 bytes", b"a\xed\xa0\x80b", refuse=False),
)
FORM_NUMBER: tuple[Bad, ...] = (
    Bad("NUL", "1\x00"),
    Bad("superscript digit", "²"),
    Bad("Arabic-Indic digits", "١٢"),
    Bad("2**63", str(2**63)),
    Bad("-1", "-1"),
    Bad("exponent", "1e3"),
    Bad("true", "true"),
)
FORM_TIME: tuple[Bad, ...] = (
    Bad("NUL", "2026-12-01T10:00\x00"),
    Bad("year 1", "0001-01-01T00:00"),
    Bad("year 9999", "9999-12-31T23:59"),
    Bad("1900", "1900-01-01T09:00"),
    Bad("date alone", "2026-12-01"),
    Bad("30 February", "2026-02-30T10:00"),
    Bad("epoch", "1700000000"),
    Bad("superscript digit", "²"),
)
# Where a button returns to (the list it was pressed on): a bad value is ignored, not refused.
FORM_NAVIGATION: tuple[Bad, ...] = tuple(
    Bad(bad.label, bad.value, refuse=bad.label == "NUL") for bad in FORM_NUMBER
)
KINDS: dict[str, tuple[Bad, ...]] = {
    "text": FORM_TEXT,
    "number": FORM_NUMBER,
    "time": FORM_TIME,
    "navigation": FORM_NAVIGATION,
}


def _incident_form() -> Form:
    return {
        "title": "障害",
        "severity": "sev3",
        "summary": "調査中です。",
        "estimated_affected_customers": "10",
        "components": ["ログイン"],
    }


INCIDENT_KINDS = {
    "title": "text",
    "title_en": "text",
    "severity": "text",
    "summary": "text",
    "component_impact": "text",
    "components": "text",
    "started_at": "time",
    "detected_at": "time",
    "estimated_recovery_at": "time",
    "estimated_affected_customers": "number",
    "cause": "text",
    "internal_notes": "text",
}


KB_ARTICLE_KINDS = {
    "key": "text",
    "kind": "text",
    "title": "text",
    "body": "text",
    "alternative": "text",
    "tags": "text",
    "components": "text",
    "locale": "text",
    "state": "text",
    "source": "text",
}


def forms(world: World) -> dict[tuple[str, str], tuple[str, Form, dict[str, str]]]:
    """Per (method, route path): the URL, a form the route accepts, and each field's kind."""
    ref, other = world.incident, world.to_resolve
    start = NEXT_WEEK.strftime("%Y-%m-%dT%H:%M")
    end = (NEXT_WEEK + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    template = "/console/templates/update/ja/email"
    desk = f"/console/inquiries/{world.inquiry}"
    return {
        ("POST", "/login"): (
            "/login",
            # No password: only the password's own cases pay for an argon2 check.
            {"email": "admin@example.com", "password": "", "next": "/console"},
            {"email": "text", "password": "text", "next": "text"},
        ),
        ("POST", "/logout"): ("/logout", {}, {}),
        ("POST", "/console/tokens"): (
            "/console/tokens",
            {"name": "monitoring"},
            {"name": "text", "user_id": "number", "expires_in_days": "number"},
        ),
        ("POST", "/console/tokens/{token_id}/revoke"): (
            f"/console/tokens/{world.token_id}/revoke",
            {},
            {},
        ),
        ("POST", "/console/users"): (
            "/console/users",
            {"email": "new@example.com", "name": "New", "role": "operator", "password": "x" * 12},
            {"email": "text", "name": "text", "role": "text", "password": "text", "locale": "text"},
        ),
        ("POST", "/console/users/{user_id}/role"): (
            f"/console/users/{world.person_id}/role",
            {"role": "senior"},
            {"role": "text"},
        ),
        ("POST", "/console/users/{user_id}/active"): (
            f"/console/users/{world.person_id}/active",
            {"active": "1"},
            {"active": "text"},
        ),
        ("POST", "/console/users/{user_id}/password"): (
            f"/console/users/{world.person_id}/password",
            {"password": "a-new-password"},
            {"password": "text"},
        ),
        ("POST", "/console/account/password"): (
            "/console/account/password",
            # Not the admin's password: every case is refused, and the world's session lives on.
            {"current_password": "not-the-password", "new_password": "a-new-password"},
            {"current_password": "text", "new_password": "text"},
        ),
        ("POST", "/console/components"): (
            "/console/components",
            {"name": "新しい部品"},
            {"name": "text", "group": "text", "name_en": "text", "description": "text"},
        ),
        ("POST", "/console/maintenance"): (
            "/console/maintenance",
            {"title": "定期メンテナンス", "scheduled_start": start, "scheduled_end": end},
            {
                "title": "text",
                "body": "text",
                "scheduled_start": "time",
                "scheduled_end": "time",
                "components": "text",
            },
        ),
        ("POST", "/console/maintenance/{ref}/status"): (
            f"/console/maintenance/{world.maintenance}/status",
            {"status": "in_progress"},
            {"status": "text"},
        ),
        ("POST", "/console/incidents/{ref}/check"): (
            f"/console/incidents/{ref}/check",
            {"body_ja": UPDATE_JA, "kind": "update"},
            {"body_ja": "text", "body_en": "text", "kind": "text"},
        ),
        ("POST", "/console/incidents/new"): (
            "/console/incidents/new",
            _incident_form(),
            INCIDENT_KINDS,
        ),
        ("POST", "/console/incidents/{ref}/updates"): (
            f"/console/incidents/{ref}/updates",
            {"status": "identified", "audience": "public", "body_ja": UPDATE_JA},
            {
                "status": "text",
                "audience": "text",
                "kind": "text",
                "body_ja": "text",
                "body_en": "text",
                "next_update_at": "time",
                "override_reason": "text",
            },
        ),
        ("POST", "/console/incidents/{ref}/no-news"): (f"/console/incidents/{ref}/no-news", {}, {}),
        ("POST", "/console/incidents/{ref}/resolve"): (
            f"/console/incidents/{other}/resolve",
            {"body_ja": RESOLUTION_JA},
            {
                "body_ja": "text",
                "body_en": "text",
                "override_reason": "text",
                "resolved_at": "time",
            },
        ),
        ("POST", "/console/incidents/{ref}/reopen"): (
            f"/console/incidents/{ref}/reopen",
            {"status": "investigating", "body_ja": UPDATE_JA, "confirm": "yes"},
            {
                "status": "text",
                "body_ja": "text",
                "body_en": "text",
                "next_update_at": "time",
                "override_reason": "text",
            },
        ),
        ("POST", "/console/incidents/{ref}/report"): (
            f"/console/incidents/{ref}/report",
            {"body_ja": RESOLUTION_JA, "confirm": "yes"},
            {"body_ja": "text", "body_en": "text", "override_reason": "text"},
        ),
        ("POST", "/console/incidents/{ref}/review/publish"): (
            f"/console/incidents/{ref}/review/publish",
            {
                "changes_ja": "手順を改めます。",
                "reflection_ja": "反省しています。",
                "confirm": "yes",
            },
            {
                "changes_ja": "text",
                "reflection_ja": "text",
                "changes_en": "text",
                "reflection_en": "text",
                "override_reason": "text",
            },
        ),
        ("POST", "/console/incidents/{ref}/review/check"): (
            f"/console/incidents/{ref}/review/check",
            {"changes_ja": "手順を改めます。", "reflection_ja": "反省しています。"},
            {
                "changes_ja": "text",
                "reflection_ja": "text",
                "changes_en": "text",
                "reflection_en": "text",
            },
        ),
        ("POST", "/console/incidents/{ref}/review/followups"): (
            f"/console/incidents/{ref}/review/followups",
            {},
            {},
        ),
        ("POST", "/console/incidents/{ref}/take-time"): (
            f"/console/incidents/{ref}/take-time",
            {"body_ja": UPDATE_JA, "kind": "update"},
            {"body_ja": "text", "body_en": "text", "kind": "text", "next_update_at": "text"},
        ),
        ("POST", "/console/incidents/{ref}/times"): (
            f"/console/incidents/{ref}/times",
            {"started_at": (NEXT_WEEK - dt.timedelta(days=14)).strftime("%Y-%m-%dT%H:%M")},
            {"started_at": "time", "resolved_at": "time"},
        ),
        ("POST", "/console/inquiries/{ref}/claim"): (f"{desk}/claim", {}, {}),
        ("POST", "/console/inquiries/{ref}/release"): (f"{desk}/release", {}, {}),
        ("POST", "/console/inquiries/{ref}/takeover"): (
            f"{desk}/takeover",
            {"reason": "担当者が休憩に入るため"},
            {"reason": "text"},
        ),
        ("POST", "/console/inquiries/{ref}/level"): (
            f"{desk}/level",
            {"level": "2", "reason": "詳しい説明が必要"},
            {"level": "number", "reason": "text"},
        ),
        ("POST", "/console/inquiries/{ref}/stage"): (
            f"{desk}/stage",
            {"stage": "listening"},
            {"stage": "text", "note": "text"},
        ),
        ("POST", "/console/inquiries/{ref}/triage"): (
            f"{desk}/triage",
            {"field": "temperature", "value": "2", "reason": "電話口で苛立ち"},
            {"field": "text", "value": "text", "reason": "text"},
        ),
        ("POST", "/console/skills/{user_id}"): (
            f"/console/skills/{world.person_id}",
            {"max_level": "1", "languages": "ja"},
            {"max_level": "number", "languages": "text", "incident_capable": "text"},
        ),
        ("POST", "/console/incidents/{ref}/edit"): (
            f"/console/incidents/{ref}/edit",
            _incident_form(),
            INCIDENT_KINDS,
        ),
        ("POST", "/console/templates/{kind}/{locale}/{channel}"): (
            template,
            {"subject": "【続報】{{ title }}", "body": "{{ title }}について対応中です。"},
            {"subject": "text", "body": "text", "note": "text", "facts": "text"},
        ),
        ("POST", "/console/templates/{kind}/{locale}/{channel}/preview"): (
            template + "/preview",
            {"subject": "件名", "body": "{{ title }}", "facts": "unconfirmed"},
            {"subject": "text", "body": "text", "facts": "text"},
        ),
        ("POST", "/console/templates/{kind}/{locale}/{channel}/restore"): (
            template + "/restore",
            {"version": "0"},
            {"version": "number"},
        ),
        ("POST", "/subscribe"): (
            "/subscribe",
            {"email": "reader2@example.com", "locale": "ja", "csrf_token": CSRF},
            {"email": "text", "locale": "text", "components": "number"},
        ),
        ("POST", "/unsubscribe/{token}"): ("/unsubscribe/no-such-token", {}, {}),
        ("POST", "/feedback/{token}"): (
            "/feedback/no-such-token",
            {"score": "3", "comment": "", "csrf_token": CSRF},
            {"score": "number", "comment": "text"},
        ),
        ("POST", "/console/inquiries/phone"): (
            "/console/inquiries/phone",
            {"text": "つながらない", "name": "田中", "csrf_token": CSRF},
            {
                "text": "text",
                "name": "text",
                "phone": "text",
                "organisation": "text",
                "tier": "text",
                "locale": "text",
                "incident": "number",
                "keep_informed": "text",
            },
        ),
        ("POST", "/inquiry"): (
            "/inquiry",
            {"text": "ログインできない", "email": "fuzz@example.com", "locale": "ja"},
            {
                "text": "text",
                "email": "text",
                "name": "text",
                "phone": "text",
                "organisation": "text",
                "locale": "text",
                "keep_informed": "text",
                "homepage": "text",
            },
        ),
        ("POST", "/console/deliveries/{delivery_id}/retry"): (
            f"/console/deliveries/{world.delivery_id}/retry",
            {"state": "dead"},
            {"state": "text", "message": "navigation"},
        ),
        ("POST", "/console/messages/{message_id}/retry-dead"): (
            f"/console/messages/{world.message_id}/retry-dead",
            {"state": "dead"},
            {"state": "text", "message": "navigation"},
        ),
        ("POST", "/console/deliveries/retry-dead"): ("/console/deliveries/retry-dead", {}, {}),
        ("POST", "/console/subscribers/{subscriber_id}/remove"): (
            f"/console/subscribers/{world.subscriber_id}/remove",
            {"confirm": "no", "page": "1"},
            {"confirm": "text", "q": "text", "page": "navigation", "status": "text"},
        ),
        ("POST", "/console/subscribers/{subscriber_id}/resend"): (
            f"/console/subscribers/{world.subscriber_id}/resend",
            {"page": "1"},
            {"q": "text", "page": "navigation", "status": "text", "kind": "text"},
        ),
        ("POST", "/console/inquiries/{ref}/reply"): (
            "/console/inquiries/Q-1999-000001/reply",  # no inquiry in this world: a 404 page
            {"body": UPDATE_JA},
            {
                "body": "text",
                "subject": "text",
                "override_reason": "text",
                "outcome": "text",
                "next_action": "text",
                "next_action_due_at": "time",
            },
        ),
        ("POST", "/console/incidents/{ref}/inquiries/reply-all"): (
            f"/console/incidents/{ref}/inquiries/reply-all",
            {"body_ja": UPDATE_JA},
            {
                "body_ja": "text",
                "body_en": "text",
                "intent": "text",
                "channel": "text",
                "override_reason": "text",
            },
        ),
        ("POST", "/console/inquiries/{ref}/requests"): (
            f"/console/inquiries/{world.inquiry}/requests",
            {"text": "返金してほしい"},
            {"text": "text"},
        ),
        ("POST", "/console/inquiries/{ref}/requests/{request_id}"): (
            f"/console/inquiries/{world.inquiry}/requests/{world.request_id}",
            {"decision": "alternative", "alternative": "クレジットで補填"},
            {"decision": "text", "alternative": "text"},
        ),
        ("POST", "/console/inquiries/{ref}/commitments"): (
            f"/console/inquiries/{world.inquiry}/commitments",
            {
                "kind": "callback",
                "description": "折り返し",
                "due_at": NEXT_WEEK.strftime("%Y-%m-%dT%H:%M"),
                "owner": str(world.user_id),
            },
            {"kind": "text", "description": "text", "due_at": "time", "owner": "number"},
        ),
        ("POST", "/console/inquiries/{ref}/commitments/{commitment_id}/kept"): (
            f"/console/inquiries/{world.inquiry}/commitments/{world.commitment_id}/kept",
            {},
            {},
        ),
        ("POST", "/console/inquiries/{ref}/next-action"): (
            f"/console/inquiries/{world.inquiry}/next-action",
            {
                "next_action": "調査結果を報告",
                "next_action_due_at": NEXT_WEEK.strftime("%Y-%m-%dT%H:%M"),
            },
            {"next_action": "text", "next_action_due_at": "time"},
        ),
        # R21: sharing with departments, and the departments' admin pages.
        ("POST", "/console/inquiries/{ref}/share"): (
            f"/console/inquiries/{world.inquiry}/share",
            {"department": world.department, "note": "原因の確認をお願いします"},
            {"department": "text", "note": "text"},
        ),
        ("POST", "/console/departments"): (
            "/console/departments",
            {"key": "ops", "name_ja": "運用部", "name_en": "Ops", "email": "ops@example.com"},
            DEPARTMENT_FIELDS,
        ),
        ("POST", "/console/departments/{department}"): (
            f"/console/departments/{world.department}",
            {"name_ja": "開発部", "name_en": "Development", "email": "dev2@example.com"},
            DEPARTMENT_FIELDS,
        ),
        ("POST", "/console/departments/{department}/active"): (
            f"/console/departments/{world.department}/active",
            {"active": "0"},
            {"active": "text"},
        ),
        ("POST", "/console/inquiries/{ref}/hand-to-supervisor"): (
            f"/console/inquiries/{world.inquiry}/hand-to-supervisor",
            {},
            {},
        ),
        # The knowledge base (R17, R32): the article form, its "save as article" prefill,
        # votes, uses from the reply panel and the synonym list.
        ("POST", "/console/kb"): (
            "/console/kb",
            {
                "kind": "faq",
                "title": "ログインできないとき",
                "body": "パスワードの再設定をお試しください。",
                "locale": "ja",
                "state": "draft",
            },
            KB_ARTICLE_KINDS,
        ),
        ("POST", "/console/kb/new"): (
            "/console/kb/new",
            {"title": "Re: ログイン", "body": "ご不便を", "source": f"inquiry:{world.user_id}"},
            {"title": "text", "body": "text", "locale": "text", "kind": "text", "source": "text"},
        ),
        ("POST", "/console/kb/{key}/edit"): (
            f"/console/kb/{world.article}/edit",
            {
                "kind": "faq",
                "title": "ログインできないとき",
                "body": "パスワードの再設定をお試しください。",
                "locale": "ja",
                "state": "draft",
                "version": "1",
            },
            {**KB_ARTICLE_KINDS, "version": "number"},
        ),
        ("POST", "/console/kb/{key}/vote"): (
            f"/console/kb/{world.article}/vote",
            {"helpful": "yes"},
            {"helpful": "text"},
        ),
        ("POST", "/console/kb/{key}/used"): (
            f"/console/kb/{world.article}/used",
            {"inquiry_id": str(world.user_id)},
            {"inquiry_id": "number"},
        ),
        ("POST", "/console/kb/synonyms"): (
            "/console/kb/synonyms",
            {"synonyms": "ログイン, サインイン"},
            {"synonyms": "text"},
        ),
        ("POST", "/console/drills"): (
            "/console/drills",
            {"customer_text": "ログインできない", "label": "good"},
            {
                "customer_text": "text",
                "sent_reply": "text",
                "incident_title": "text",
                "source": "text",
                "locale": "text",
                "label": "text",
                "note": "text",
            },
        ),
        ("POST", "/console/drills/{drill_id}/attempts"): (
            f"/console/drills/{world.drill_id}/attempts",
            {"reply": "ご不便をおかけし申し訳ございません。"},
            {"reply": "text"},
        ),
        ("POST", "/console/incidents/{ref}/review/notes"): (
            f"/console/incidents/{ref}/review/notes",
            {"kind": "cause", "cause_class": "process", "body": "手順書に確認がなかった"},
            {"kind": "text", "cause_class": "text", "body": "text"},
        ),
        ("POST", "/console/incidents/{ref}/review/actions"): (
            f"/console/incidents/{ref}/review/actions",
            {"title": "手順書を直す", "owner": str(world.user_id), "due_on": DUE_ON},
            {"title": "text", "owner": "number", "due_on": "time"},
        ),
        ("POST", "/console/incidents/{ref}/review/actions/{action_id}/done"): (
            f"/console/incidents/{ref}/review/actions/{world.action_id}/done",
            {},
            {},
        ),
        ("POST", "/console/incidents/{ref}/review/actions/{action_id}/check"): (
            f"/console/incidents/{ref}/review/actions/{world.done_action_id}/check",
            {"checked_on": CHECKED_ON, "result": "effective", "note": "再発なし"},
            {"checked_on": "time", "result": "text", "note": "text"},
        ),
        ("POST", "/console/incidents/{ref}/review/actions/{action_id}/refix"): (
            f"/console/incidents/{ref}/review/actions/{world.failed_action_id}/refix",
            {"title": "監視を足す", "owner": str(world.user_id), "due_on": DUE_ON},
            {"title": "text", "owner": "number", "due_on": "time"},
        ),
        ("POST", "/console/users/{user_id}/on-duty"): (
            f"/console/users/{world.user_id}/on-duty",
            {"on_duty": "1"},
            {"on_duty": "text", "back": "text"},
        ),
    }


def encode(form: dict[str, str | bytes | list[str]]) -> bytes:
    """A urlencoded body, byte for byte as a browser would send these values."""
    parts: list[bytes] = []
    for name, value in form.items():
        for item in value if isinstance(value, list) else [value]:
            raw = item if isinstance(item, bytes) else item.encode("utf-8")
            parts.append(quote(name).encode() + b"=" + quote_from_bytes(raw).encode())
    return b"&".join(parts)


def _page_routes(app: FastAPI) -> list[RouteInfo]:
    return [r for r in api_routes(app) if not r.path.startswith("/api/")]


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    # The sign-in throttle off: a refused sign-in then writes nothing, and hundreds of
    # them do not lock the account (the throttle's own writes: test_login_throttle.py).
    off = {"login_failures_per_account": 0, "login_failures_per_address": 0}
    application = create_app(settings.model_copy(update=off))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Settings) -> World:
    return build(sessions, settings)


def test_every_form_route_is_fuzzed(app: FastAPI, world: World) -> None:
    posted = {("POST", r.path) for r in _page_routes(app) if "POST" in r.methods}
    assert posted == set(forms(world))


def test_hostile_form_fields(
    app: FastAPI, client: TestClient, world: World, sessions: sessionmaker[Session]
) -> None:
    runner = Runner(app, client, world, sessions)
    for (method, path), (url, base, kinds) in forms(world).items():
        for name, kind in kinds.items():
            runner.stretch(f"{method} {path} {name}")
            for bad in KINDS[kind]:
                case = f"{method} {path} {name}={bad.label}"
                body = encode({**base, name: bad.value})
                runner.send(
                    case, method, url, content=body, content_type=FORM, refuse=bad.refuse, api=False
                )
        runner.stretch(f"{method} {path} whole form")
        for label, content, content_type in (
            ("NUL in a field name", b"a%00b=1&" + encode(base), FORM),
            ("not a form", b"\xff\xfe{", FORM),
            ("multipart without a boundary", encode(base), "multipart/form-data"),
            ("JSON", b'{"a": 1}', "application/json"),
        ):
            case = f"{method} {path} body={label}"
            runner.send(
                case,
                method,
                url,
                content=content,
                content_type=content_type,
                refuse=False,
                api=False,
            )
    runner.stretch("end")
    assert runner.sent > 300
    assert not runner.found.problems, runner.found.report()


def _page_url(route: RouteInfo, world: World) -> dict[str, str]:
    return {
        "ref": (
            world.maintenance
            if "/maintenance/" in route.path
            else world.inquiry
            if route.path.startswith("/console/inquiries/")
            else world.incident
        ),
        "request_id": str(world.request_id),
        "commitment_id": str(world.commitment_id),
        "kind": "internal" if "/review/" in route.path else "update",
        "fmt": "md",
        "locale": "ja",
        "channel": "email",
        "token": "no-such-token",
        "token_id": str(world.token_id),
        "delivery_id": str(world.delivery_id),
        "message_id": str(world.message_id),
        "subscriber_id": str(world.subscriber_id),
        "user_id": str(world.user_id),
        "key": world.article,
        "department": world.department,
    }


def test_hostile_page_parameters(
    app: FastAPI, client: TestClient, world: World, sessions: sessionmaker[Session]
) -> None:
    runner = Runner(app, client, world, sessions)
    posted = forms(world)
    for route in _page_routes(app):
        values = _page_url(route, world)
        for method in sorted(route.methods - {"HEAD"}):
            body = encode(posted[(method, route.path)][1]) if method == "POST" else None
            runner.stretch(f"{method} {route.path}")
            for param in route.route.dependant.path_params:
                integer = param.field_info.annotation is int
                for bad in URL_INTEGER if integer or param.name == "ref" else URL_TEXT:
                    url = route.path
                    for name, value in {**values, param.name: bad.value}.items():
                        url = url.replace("{" + name + "}", value)
                    case = f"{method} {route.path} path {param.name}={bad.label}"
                    runner.send(
                        case, method, url, content=body, content_type=FORM, refuse=True, api=False
                    )
            for param in route.route.dependant.query_params:
                url = route.path
                for name, value in values.items():
                    url = url.replace("{" + name + "}", value)
                for bad in URL_INTEGER:
                    case = f"{method} {route.path} query {param.name}={bad.label}"
                    target = f"{url}?{param.name}={bad.value}"
                    runner.send(
                        case,
                        method,
                        target,
                        content=body,
                        content_type=FORM,
                        refuse=False,
                        api=False,
                    )
    runner.stretch("end")
    assert runner.sent > 100
    assert not runner.found.problems, runner.found.report()

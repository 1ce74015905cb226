"""Hostile input on every JSON API route: never a 5xx, a JSON 4xx with a message, nothing changed.

Issue 7's bad-input findings, found by walking the route table and the OpenAPI
schema rather than by listing routes by hand: every property of every request
body gets the hostile values of its declared type (lone surrogates, NUL, ids
past SQL bigint, epoch numbers as times, years 1 and 9999, ``true`` as a
count…), every path and query parameter gets hostile text, and every body
route gets malformed JSON, the wrong content type and unknown fields. A value
that must be refused must leave every table exactly as it was. Runs on SQLite
and PostgreSQL (which refuses NUL in text: a 422 here, never a 500).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.config import Settings
from input_hostile import (
    BY_KIND,
    URL_BOOLEAN,
    URL_INTEGER,
    URL_TEXT,
    Bad,
    Runner,
    dumps,
    kind_of,
)
from input_world import World, build
from notice_texts import RESOLUTION_JA, UPDATE_EN, UPDATE_JA
from route_table import api_routes

JSON = "application/json"
NEXT_WEEK = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).replace(microsecond=0)


def valid_bodies() -> dict[tuple[str, str], dict[str, Any]]:
    """A body each JSON route accepts, by (method, OpenAPI path); one field is spoiled at a time."""
    return {
        ("POST", "/api/incidents"): {"title": "障害", "severity": "sev3"},
        ("PATCH", "/api/incidents/{ref}"): {"summary": "調査中です。"},
        ("POST", "/api/incidents/{ref}/updates"): {
            "body_ja": UPDATE_JA,
            "body_en": UPDATE_EN,
            "status": "identified",
        },
        ("POST", "/api/incidents/{ref}/resolve"): {
            "body_ja": RESOLUTION_JA,
            "report_due_at": NEXT_WEEK.isoformat(),
        },
        ("POST", "/api/incidents/{ref}/reopen"): {"status": "investigating"},
        ("POST", "/api/incidents/{ref}/report"): {"body_ja": RESOLUTION_JA},
        ("POST", "/api/incidents/{ref}/times"): {
            "started_at": (NEXT_WEEK - dt.timedelta(days=14)).isoformat()
        },
        ("POST", "/api/components"): {"name": "新しい部品"},
        ("POST", "/api/maintenances"): {
            "title": "定期メンテナンス",
            "scheduled_start": NEXT_WEEK.isoformat(),
            "scheduled_end": (NEXT_WEEK + dt.timedelta(hours=2)).isoformat(),
            "notify_subscribers": False,
        },
        ("POST", "/api/maintenances/{ref}/status"): {"status": "in_progress"},
        ("POST", "/api/lint"): {"text": "ただいま確認中です。", "kind": "update", "locale": "ja"},
        ("PUT", "/api/templates/{kind}/{locale}/{channel}"): {
            "subject": "【続報】{{ title }}",
            "body": "{{ title }}について、引き続き対応しております。",
        },
        ("POST", "/api/templates/{kind}/{locale}/{channel}/restore"): {"version": 0},
        ("POST", "/api/templates/render"): {
            "kind": "update",
            "locale": "ja",
            "channel": "email",
            "sample": "unconfirmed",
        },
        ("POST", "/api/subscribers"): {"email": "new@example.com", "locale": "ja"},
        ("POST", "/api/inquiries"): {
            "text": "ログインできない",
            "customer": {"email": "fuzz@example.com", "tier": "standard"},
        },
        ("POST", "/api/inquiries/{ref}/reply"): {"body": UPDATE_JA, "reports_result": True},
        ("POST", "/api/incidents/{ref}/inquiries/reply"): {
            "body_ja": UPDATE_JA,
            "intent": "status_inquiry",
        },
        ("PATCH", "/api/users/{user_id}"): {"role": "senior", "active": True},
        ("POST", "/api/users/{user_id}/password"): {"password": "a-new-password"},
        ("POST", "/api/inquiries/{ref}/takeover"): {"reason": "担当者が休憩に入るため"},
        ("POST", "/api/inquiries/{ref}/escalate"): {"level": 2, "reason": "詳しい説明が必要"},
        ("POST", "/api/inquiries/{ref}/deescalate"): {"level": 1, "reason": "状況の確認のみ"},
        ("POST", "/api/inquiries/{ref}/stage"): {"stage": "listening", "note": "共有メモ"},
        ("POST", "/api/inquiries/{ref}/requests"): {"text": "返金してほしい"},
        ("POST", "/api/inquiries/{ref}/requests/{request_id}"): {
            "decision": "alternative",
            "alternative": "クレジットで補填",
        },
        ("POST", "/api/inquiries/{ref}/commitments"): {
            "kind": "callback",
            "description": "折り返し",
            "due_at": NEXT_WEEK.isoformat(),
        },
        ("POST", "/api/inquiries/{ref}/share"): {
            "departments": ["development"],
            "note": "原因の確認をお願いします",
        },
        ("POST", "/api/departments"): {
            "key": "fuzz-dept",
            "name_ja": "検査部",
            "name_en": "Checks",
            "email": "checks@example.com",
        },
        ("PUT", "/api/departments/{department}"): {
            "name_ja": "開発部",
            "name_en": "Development",
            "email": "dev@example.com",
        },
        ("POST", "/api/departments/{department}/active"): {"active": True},
        ("POST", "/api/inquiries/{ref}/next-action"): {
            "next_action": "調査結果を報告",
            "due_at": NEXT_WEEK.isoformat(),
        },
    }


# Known and being fixed on the `delivery` branch (notify internals): marked, not hidden.
DELIVERY_BRANCH = {("POST", "/api/subscribers", "unknown field")}


def path_values(world: World, method: str, path: str) -> dict[str, str]:
    """The records each path parameter names in the world."""
    ref = world.incident
    if path.startswith("/api/maintenances/"):
        ref = world.maintenance
    elif path.startswith("/api/inquiries/"):
        ref = world.inquiry
    elif path.endswith("/resolve"):
        ref = world.to_resolve
    elif path.startswith("/api/inquiries/"):
        ref = world.inquiry
    return {
        "ref": ref,
        "kind": "update",
        "locale": "ja",
        "channel": "email",
        "subscriber_id": str(world.subscriber_id),
        "message_id": str(world.message_id),
        "delivery_id": str(world.delivery_id),
        "token": "no-such-token",
        "user_id": str(world.person_id),
        "request_id": str(world.request_id),
        "commitment_id": str(world.commitment_id),
        "department": world.department,
    }


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Settings) -> World:
    return build(sessions, settings)


def _operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _schema(openapi: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is None:
        return None
    ref = body["schema"]["$ref"].rsplit("/", 1)[1]
    schema: dict[str, Any] = openapi["components"]["schemas"][ref]
    return schema


def test_the_schema_walk_covers_every_json_route(app: FastAPI) -> None:
    """Every route with a JSON body has a valid body here, so none is left out of the fuzz."""
    openapi = app.openapi()
    with_body = {(m, p) for m, p, op in _operations(openapi) if _schema(openapi, op) is not None}
    assert with_body == set(valid_bodies())
    in_table = {
        (method, r.path)
        for r in api_routes(app)
        for method in r.methods
        if r.route.body_field is not None and r.path.startswith("/api/")
    }
    # The CSV import reads its body itself: test_hostile_csv_imports.
    assert in_table == set(valid_bodies())


def test_hostile_body_fields(
    client: TestClient, world: World, sessions: sessionmaker[Session], app: FastAPI
) -> None:
    openapi = app.openapi()
    runner = Runner(app, client, world, sessions)
    for method, path, operation in _operations(openapi):
        schema = _schema(openapi, operation)
        if schema is None:
            continue
        base = valid_bodies()[(method, path)]
        url = fill(path, path_values(world, method, path))
        for name, prop in schema["properties"].items():
            runner.stretch(f"{method} {path} {name}")
            kind = kind_of(prop)
            for bad in BY_KIND[kind]:
                case = f"{method} {path} {name}={bad.label}"
                body = dumps({**base, name: bad.value})
                runner.send(case, method, url, content=body, refuse=bad.refuse)
            if kind == "object":
                nested = openapi["components"]["schemas"][prop["anyOf"][0]["$ref"].rsplit("/")[-1]]
                for inner, inner_prop in nested["properties"].items():
                    for bad in BY_KIND[kind_of(inner_prop)]:
                        case = f"{method} {path} {name}.{inner}={bad.label}"
                        body = {**base, name: {inner: bad.value}}
                        runner.send(case, method, url, content=dumps(body), refuse=bad.refuse)
    assert runner.sent > 500
    runner.stretch("end")
    assert not runner.found.problems, runner.found.report()


def _whole_body_cases(base: dict[str, Any]) -> list[tuple[Bad, bytes, str]]:
    text_field = next((k for k, v in base.items() if isinstance(v, str)), next(iter(base)))
    good = dumps(base)
    spoiled = dumps({**base, text_field: "a\ud800b"})
    return [
        (Bad("unknown field", None), dumps({**base, "zzz_unknown": 1}), JSON),
        (Bad("malformed JSON", None), good[:-1] + b",}", JSON),
        (Bad("truncated JSON", None), good[: len(good) // 2], JSON),
        (Bad("a JSON list", None), b"[" + good + b"]", JSON),
        (Bad("a JSON string", None), b'"x"', JSON),
        (Bad("empty body", None), b"", JSON),
        (Bad("deep nesting", None), b"[" * 100_000 + b"]" * 100_000, JSON),
        (
            Bad("5000-digit number", None),
            dumps(base)[:-1] + b', "' + text_field.encode() + b'": ' + b"7" * 5000 + b"}",
            JSON,
        ),
        (Bad("surrogate as UTF-8 bytes", None), spoiled.replace(b"\\ud800", b"\xed\xa0\x80"), JSON),
        (Bad("invalid UTF-8", None), spoiled.replace(b"\\ud800", b"\xff\xfe"), JSON),
        (Bad("text/plain", None), good, "text/plain"),
        (Bad("a form", None), b"title=x&severity=sev3", "application/x-www-form-urlencoded"),
    ]


def test_hostile_whole_bodies(
    client: TestClient, world: World, sessions: sessionmaker[Session], app: FastAPI
) -> None:
    openapi = app.openapi()
    runner = Runner(app, client, world, sessions)
    for method, path, operation in _operations(openapi):
        if _schema(openapi, operation) is None:
            continue
        url = fill(path, path_values(world, method, path))
        runner.stretch(f"{method} {path} whole bodies")
        for bad, content, content_type in _whole_body_cases(valid_bodies()[(method, path)]):
            if (method, path, bad.label) in DELIVERY_BRANCH:
                continue
            case = f"{method} {path} body={bad.label}"
            runner.send(case, method, url, content=content, content_type=content_type)
    runner.stretch("end")
    assert not runner.found.problems, runner.found.report()


def _url_values(schema: dict[str, Any]) -> tuple[Bad, ...]:
    kind = kind_of(schema)
    return {"integer": URL_INTEGER, "boolean": URL_BOOLEAN}.get(kind, URL_TEXT)


def test_hostile_path_and_query_parameters(
    client: TestClient, world: World, sessions: sessionmaker[Session], app: FastAPI
) -> None:
    openapi = app.openapi()
    runner = Runner(app, client, world, sessions)
    for method, path, operation in _operations(openapi):
        values = path_values(world, method, path)
        schema = _schema(openapi, operation)
        body = dumps(valid_bodies()[(method, path)]) if schema is not None else None
        api = path.startswith("/api/")
        for param in operation.get("parameters", []):
            runner.stretch(f"{method} {path} {param['name']}")
            for bad in _url_values(param["schema"]):
                case = f"{method} {path} {param['in']} {param['name']}={bad.label}"
                if param["in"] == "path":
                    url = fill(path, {**values, param["name"]: bad.value})
                else:
                    url = fill(path, values) + f"?{param['name']}={bad.value}"
                refuse = bad.refuse or param["in"] == "path"
                runner.send(case, method, url, content=body, refuse=refuse, api=api)
    assert runner.sent > 100
    runner.stretch("end")
    assert not runner.found.problems, runner.found.report()


def test_unknown_fields_on_subscribers_are_refused(
    client: TestClient, world: World, sessions: sessionmaker[Session], app: FastAPI
) -> None:
    runner = Runner(app, client, world, sessions)
    body = {"email": "typo@example.com", "locale": "ja", "confirmd": True}
    runner.send(
        "POST /api/subscribers body=unknown field", "POST", "/api/subscribers", content=dumps(body)
    )
    runner.stretch("end")
    assert not runner.found.problems, runner.found.report()


CSV_HEADER = b"email,locale,components,status\n"
HOSTILE_CSV: list[tuple[str, bytes]] = [
    ("NUL in an address", CSV_HEADER + b"a\x00b@example.com,ja,,\n"),
    ("NUL in a component", CSV_HEADER + b"ok@example.com,ja,\x00,\n"),
    ("not UTF-8", CSV_HEADER + b"\xff\xfe@example.com,ja,,\n"),
    ("surrogate as UTF-8 bytes", CSV_HEADER + b"a\xed\xa0\x80@example.com,ja,,\n"),
    ("2**63 as a component", CSV_HEADER + b"ok@example.com,ja,9223372036854775808,\n"),
    ("superscript component", CSV_HEADER + "ok@example.com,ja,²,\n".encode()),
    ("Arabic-Indic component", CSV_HEADER + "ok@example.com,ja,١٢,\n".encode()),
    ("unknown column", b"email,colour\nok@example.com,red\n"),
    ("no header", b""),
]


def test_hostile_csv_imports(
    client: TestClient, world: World, sessions: sessionmaker[Session], app: FastAPI
) -> None:
    runner = Runner(app, client, world, sessions)
    runner.stretch("POST /api/subscribers/import")
    for label, content in HOSTILE_CSV:
        case = f"POST /api/subscribers/import body={label}"
        runner.send(
            case, "POST", "/api/subscribers/import", content=content, content_type="text/csv"
        )
    runner.stretch("end")
    assert not runner.found.problems, runner.found.report()


def test_a_csv_field_over_128_kib_is_refused(
    client: TestClient, world: World, sessions: sessionmaker[Session], app: FastAPI
) -> None:
    runner = Runner(app, client, world, sessions)
    content = CSV_HEADER + b"ok@example.com,ja," + b"x" * (129 * 1024) + b",\n"
    runner.send(
        "POST /api/subscribers/import body=a field over 128 KiB",
        "POST",
        "/api/subscribers/import",
        content=content,
        content_type="text/csv",
    )
    runner.stretch("end")
    assert not runner.found.problems, runner.found.report()

"""The error answers themselves (issue 7): they never crash, say where, and speak the team's zone.

- A lone surrogate in the path, in an error's message, in an unknown field's
  name: still a 4xx — JSON under /api/, a page or a redirect elsewhere. An
  ASGI server may hand such a path to the app; it is sent here straight to the
  app, as no HTTP client can.
- A body that is not JSON is a 422 naming the line, the column and the field,
  in the caller's language.
- An unknown component in a request is a 422 (the request is wrong), not a 404.
- Every time in an API answer carries the team's offset (``ANSHIN_TIMEZONE``), as
  docs/api.md promises.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from anshin.app import create_app
from anshin.config import Settings
from input_world import World, build, digest
from notice_texts import UPDATE_EN, UPDATE_JA


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Settings) -> World:
    return build(sessions, settings)


def asgi_get(
    app: FastAPI, path: str, headers: dict[str, str], query: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` and ``query`` exactly as given (lone surrogates, raw bytes) through ASGI."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogatepass"),
        "query_string": query,
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    # In a thread of its own: a browser test's Playwright may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, body


SURROGATE_PATHS = [
    ("/api/incidents/\ud800", 422),
    ("/api/\ud800", 404),
    ("/api/templates/\ud800/ja/email", 422),
    ("/console/incidents/\ud800", 422),
    ("/console/templates/\ud800/ja/email", 422),
    ("/\ud800", 404),
]


@pytest.mark.parametrize(("path", "status"), SURROGATE_PATHS, ids=[p for p, _ in SURROGATE_PATHS])
def test_a_lone_surrogate_in_the_path_is_a_4xx(
    app: FastAPI, world: World, sessions: sessionmaker[Session], path: str, status: int
) -> None:
    before = digest(sessions)
    code, headers, body = asgi_get(app, path, world.headers())
    assert code == status, body[:300]
    text = body.decode("utf-8")
    if path.startswith("/api/"):
        error = json.loads(text)["error"]
        assert error["message"]
        if "templates" in path:  # the message names the value, escaped
            assert "\\ud800" in error["message"]
    else:
        assert headers["content-type"].startswith("text/html")
        assert "<html" in text
    assert digest(sessions) == before


def test_a_lone_surrogate_on_the_way_to_sign_in_is_a_redirect(app: FastAPI) -> None:
    code, headers, _ = asgi_get(app, "/console/incidents/\ud800", {}, b"kind=\xed\xa0\x80")
    assert code == 303
    assert headers["location"].startswith("/login?next=/console/incidents/")


def test_a_query_string_that_is_not_utf8_is_still_answered(
    app: FastAPI, world: World, sessions: sessionmaker[Session]
) -> None:
    """Bytes a client did not percent-encode (uvicorn refuses them; other servers may not)."""
    before = digest(sessions)
    code, _, body = asgi_get(app, "/api/incidents", world.headers(), b"status=\xed\xa0\x80")
    assert code == 422
    assert json.loads(body)["error"]["field"] == "status"
    code, headers, body = asgi_get(app, "/console/incidents/\ud800", world.headers(), b"kind=\xff")
    assert code == 422
    assert headers["content-type"].startswith("text/html") and b"<h1>422</h1>" in body
    assert digest(sessions) == before


def test_a_lone_surrogate_in_a_field_name_is_a_422(
    client: TestClient, world: World, sessions: sessionmaker[Session]
) -> None:
    before = digest(sessions)
    body = b'{"title": "x", "severity": "sev1", "\\ud800": 1}'
    response = client.post(
        "/api/incidents",
        content=body,
        headers={**world.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    surrogate = "The text is not valid Unicode (a lone surrogate). Send UTF-8 text."
    assert details == [{"field": None, "message": surrogate}]
    assert digest(sessions) == before


BROKEN = b'{\n  "title": "\xe6\x95\x85\xe9\x9a\x9c",\n  "severity": sev1\n}'


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", "The request body is not valid JSON: line 3, column 15."),
        ("ja", "リクエスト本文が正しい JSON ではありません（3 行目、15 文字目）。"),
    ],
)
def test_a_json_parse_error_points_at_the_field(
    client: TestClient, world: World, lang: str, message: str
) -> None:
    response = client.post(
        "/api/incidents",
        content=BROKEN,
        headers={**world.headers(lang), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "InvalidInput"
    assert error["details"] == [{"field": "severity", "line": 3, "column": 15, "message": message}]


def test_an_unknown_component_is_422_everywhere_it_is_named(
    client: TestClient, world: World, sessions: sessionmaker[Session]
) -> None:
    before = digest(sessions)
    headers = {**world.headers("ja")}
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    requests = [
        ("POST", "/api/incidents", {"title": "障害", "severity": "sev2", "components": ["無い"]}),
        ("PATCH", f"/api/incidents/{world.incident}", {"components": ["無い"]}),
        (
            "POST",
            "/api/maintenances",
            {
                "title": "作業",
                "scheduled_start": start.isoformat(),
                "scheduled_end": (start + dt.timedelta(hours=1)).isoformat(),
                "components": ["無い"],
            },
        ),
    ]
    for method, url, body in requests:
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code == 422, (url, response.text)
        error = response.json()["error"]
        assert error["field"] == "components"
        assert error["message"] == "存在しないコンポーネントです: 無い"
    assert digest(sessions) == before


ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")


def _times(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _times(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _times(item, f"{where}[{index}]")
    elif isinstance(value, str) and ISO.match(value):
        yield where, value


@pytest.mark.parametrize(("zone", "offset"), [("Asia/Tokyo", "+09:00"), ("Etc/GMT+3", "-03:00")])
def test_every_time_in_an_api_answer_is_in_the_teams_zone(
    settings: Settings, sessions: sessionmaker[Session], zone: str, offset: str
) -> None:
    settings.timezone = zone
    world = build(sessions, settings)
    app = create_app(settings)
    headers = world.headers()
    with TestClient(app) as client:
        client.post(
            f"/api/incidents/{world.incident}/updates",
            json={"body_ja": UPDATE_JA, "body_en": UPDATE_EN, "status": "identified"},
            headers=headers,
        ).raise_for_status()
        client.put(
            "/api/templates/update/ja/short",
            json={"body": "{{ title }}: 対応中です。", "override_reason": "a test text"},
            headers=headers,
        ).raise_for_status()
        answers = {
            path: client.get(path, headers=headers).json()
            for path in (
                "/api/incidents",
                f"/api/incidents/{world.incident}/no-news-draft",
                "/api/maintenances",
                "/api/templates",
                "/api/templates/update/ja/short/versions",
                "/api/subscribers",
                "/api/messages",
                f"/api/messages/{world.message_id}/deliveries?status=dead",
            )
        }
        answers["retry"] = client.post(
            f"/api/deliveries/{world.delivery_id}/retry", headers=headers
        ).json()
    app.state.engine.dispose()
    found = [
        (path, where, value) for path, data in answers.items() for where, value in _times(data)
    ]
    assert len({path for path, _, _ in found}) == len(answers), found
    wrong = [(path, where, value) for path, where, value in found if not value.endswith(offset)]
    assert not wrong, wrong

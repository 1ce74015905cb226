"""Templates through the real app: JSON API and console pages, roles, CSRF, localized refusals
(R11, R22), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from anshin.comms import api as comms_api
from anshin.comms import models, service
from anshin.comms import views as comms_views
from anshin.config import Settings
from anshin.db import make_engine, make_sessionmaker
from anshin.incidents import service as incident_service
from anshin.team import service as team_service
from anshin.team.models import User
from test_console_support import client_for, count, login, seed, text_of

KEY = "/api/templates/first_notice/ja/status_page"
GOOD = (
    "{{ components_text }}が{{ impact_text }}となっております。"
    "ご不便をおかけし、誠に申し訳ございません。\n"
    "次回は{{ next_update_at }}までにお知らせいたします。"
)


def _with_template_routes(client: TestClient) -> TestClient:
    """The app with this domain's routers (until app.ROUTER_MODULES lists them)."""
    app: Any = client.app
    paths = {getattr(route, "path", "") for route in app.routes}
    if "/api/templates" not in paths:
        app.include_router(comms_api.router)
        app.include_router(comms_views.router)
    return client


@pytest.fixture
def client(settings: Settings) -> TestClient:
    seed(settings)
    return _with_template_routes(client_for(settings))


def _token(settings: Settings, role: str) -> dict[str, str]:
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        user = session.query(User).filter(User.role == role).one()
        raw, _ = team_service.create_token(session, user=user, name=f"{role}-bot", actor="test")
        session.commit()
    engine.dispose()
    return {"Authorization": f"Bearer {raw}"}


def _incident(settings: Settings, **facts: Any) -> str:
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        data = incident_service.IncidentInput(
            title="ログインできない障害",
            title_en="Sign-in failures",
            severity="sev2",
            components=["ログイン"],
            **facts,
        )
        incident = incident_service.declare(session, settings, data, actor="test")
        session.commit()
        reference = incident.reference
    engine.dispose()
    return reference


def test_api_requires_a_user_and_lists_every_template(
    client: TestClient, settings: Settings
) -> None:
    assert client.get("/api/templates").status_code == 401
    listed = client.get("/api/templates", headers=_token(settings, "operator"))
    assert listed.status_code == 200
    templates = listed.json()["templates"]
    assert len(templates) == 64 and all(t["source"] == "default" for t in templates)
    detail = client.get(
        "/api/templates/update/en/email",
        headers={**_token(settings, "operator"), "Accept-Language": "en"},
    ).json()
    assert detail["subject"].startswith("{{ notice_label }}:") and detail["version"] == 0
    assert detail["variables"]["workaround"] == "workaround, else empty"


def test_only_seniors_edit_and_every_edit_is_a_version(
    client: TestClient, settings: Settings
) -> None:
    operator, senior = _token(settings, "operator"), _token(settings, "senior")
    refused = client.put(KEY, json={"body": GOOD}, headers={**operator, "Accept-Language": "ja"})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "この操作を行う権限がありません。"
    saved = client.put(KEY, json={"body": GOOD, "note": "短く"}, headers=senior)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["version"] == 1 and body["changed"] is True
    assert body["created_by"].startswith("user:") and "senior@example.com" in body["created_by"]
    again = client.put(KEY, json={"body": GOOD}, headers=senior).json()
    assert again["changed"] is False and again["version"] == 1
    versions = client.get(KEY + "/versions", headers=operator).json()["versions"]
    assert [v["version"] for v in versions] == [1, 0]
    assert versions[0]["note"] == "短く" and versions[1]["source"] == "default"
    restored = client.post(KEY + "/restore", json={"version": 0}, headers=senior)
    assert restored.status_code == 200 and restored.json()["version"] == 2
    assert restored.json()["note"] == "restored from version 0"
    assert client.post(KEY + "/restore", json={"version": 0}, headers=operator).status_code == 403


@pytest.mark.parametrize(
    ("path", "payload", "field", "ja"),
    [
        (KEY, {"body": "一行目\n{% if workaround %}"}, "body", "2 行目に書き方の誤りがあります"),
        (KEY, {"body": "{{ customer_nmae }} 様"}, "body", "使えない変数があります: customer_nmae"),
        (KEY, {"body": "{{ title.__class__ }}"}, "body", "許可されていない操作"),
        ("/api/templates/update/ja/email", {"body": "本文"}, "subject", "件名が必要です"),
        ("/api/templates/update/ja/short", {"body": "あ" * 150}, "body", "上限は 140 文字です"),
        ("/api/templates/apology/ja/email", {"body": "x"}, "kind", "first_notice"),
        ("/api/templates/update/fr/email", {"body": "x"}, "locale", "ja, en"),
        ("/api/templates/inquiry_ack/ja/status_page", {"body": "x"}, "channel", "email, short"),
    ],
)
def test_refused_templates_are_422_in_japanese_and_save_nothing(
    client: TestClient, settings: Settings, path: str, payload: dict[str, str], field: str, ja: str
) -> None:
    response = client.put(
        path, json=payload, headers={**_token(settings, "senior"), "Accept-Language": "ja"}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and ja in error["message"], error
    assert count(settings, models.MessageTemplateVersion) == 0


def test_unknown_fields_and_bad_json_are_422(client: TestClient, settings: Settings) -> None:
    senior = _token(settings, "senior")
    assert client.put(KEY, json={"body": GOOD, "bdy": "x"}, headers=senior).status_code == 422
    assert (
        client.put(
            KEY, content=b"{", headers={**senior, "Content-Type": "application/json"}
        ).status_code
        == 422
    )
    assert count(settings, models.MessageTemplateVersion) == 0


def test_render_previews_with_an_incident_a_sample_or_a_draft(
    client: TestClient, settings: Settings
) -> None:
    reference = _incident(
        settings, workaround="アプリからはログインできます。", estimated_affected_customers=300
    )
    operator = _token(settings, "operator")
    rendered = client.post(
        "/api/templates/render",
        json={"kind": "first_notice", "locale": "ja", "channel": "email", "incident": reference},
        headers=operator,
    )
    assert rendered.status_code == 200, rendered.text
    out = rendered.json()
    assert out["subject"].startswith("【第1報】障害発生のお知らせ：ログインできない障害（")
    assert "■ 回避策：アプリからはログインできます。" in out["text"]
    # The estimate is published only when the lead chooses to, in the compose box.
    assert "約300名" not in out["text"] and "■ 復旧の見込み：現在確認中" in out["text"]
    assert out["html"].startswith("<p>")
    assert out["has_errors"] is False
    short = client.post(
        "/api/templates/render",
        json={"kind": "first_notice", "locale": "en", "channel": "short", "incident": reference},
        headers=operator,
    ).json()
    assert (
        short["limit"] == 280 and short["length"] == len(short["text"]) and not short["over_limit"]
    )
    draft = client.post(
        "/api/templates/render",
        json={"kind": "update", "locale": "ja", "channel": "status_page", "sample": "confirmed",
              "body": "おそらく{{ recovery_text }}に直ります。"},
        headers=operator,
    ).json()  # fmt: skip
    rules_found = {f["rule"] for f in draft["findings"]}
    assert {"speculation", "missing-apology", "missing-next-update"} <= rules_found
    assert draft["has_errors"] is True
    missing = client.post(
        "/api/templates/render",
        json={"kind": "update", "locale": "ja", "channel": "email", "incident": "INC-1999-0001"},
        headers={**operator, "Accept-Language": "ja"},
    )
    assert missing.status_code == 404
    needs = client.post(
        "/api/templates/render",
        json={"kind": "update", "locale": "en", "channel": "email"},
        headers={**operator, "Accept-Language": "en"},
    )
    assert needs.status_code == 422 and "needs an incident" in needs.json()["error"]["message"]
    assert count(settings, models.MessageTemplateVersion) == 0


def test_cookie_sessions_need_the_csrf_header(client: TestClient, settings: Settings) -> None:
    token = login(client, "senior")
    assert client.put(KEY, json={"body": GOOD}).status_code == 403
    ok = client.put(KEY, json={"body": GOOD}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["version"] == 1


def test_console_list_and_edit_pages(client: TestClient, settings: Settings) -> None:
    login(client, "operator")
    listing = client.get("/console/templates")
    assert listing.status_code == 200
    text = text_of(listing.text)
    assert "文面テンプレート" in text and "第一報" in text and "電話対応スクリプト" in text
    assert 'href="/console/templates/first_notice/ja/email"' in listing.text
    page = client.get("/console/templates/first_notice/ja/email")
    assert page.status_code == 200
    body = text_of(page.text)
    assert "障害発生のお知らせ：" in body  # the subject field and the preview
    assert "驚かれたことと存じます" in body  # the preview on sample facts
    assert "変更を保存できるのはシニア以上の方です" in body
    assert "新しい版として保存" not in body
    assert client.get("/console/templates/nothing/ja/email").status_code == 422
    # an operator cannot save, even by posting directly
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    denied = client.post(
        "/console/templates/first_notice/ja/status_page",
        data={"csrf_token": token.group(1), "body": GOOD},
    )
    assert denied.status_code == 403
    assert count(settings, models.MessageTemplateVersion) == 0


def test_console_save_refusal_keeps_the_text_and_success_redirects(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "senior")
    path = "/console/templates/first_notice/ja/status_page"
    broken = "次回は{{ next_update_at }}までに\n{% if cause %}原因：{{ cause }}"
    refused = client.post(path, data={"csrf_token": token, "body": broken, "facts": "confirmed"})
    assert refused.status_code == 422
    assert "2 行目に書き方の誤りがあります" in text_of(refused.text)
    assert "原因：{{ cause }}" in text_of(refused.text)  # what was typed is kept
    assert count(settings, models.MessageTemplateVersion) == 0
    saved = client.post(path, data={"csrf_token": token, "body": GOOD, "note": "短く"})
    assert saved.status_code == 303 and saved.headers["location"] == path
    after = text_of(client.get(path).text)
    assert "第 1 版として保存しました。" in after
    assert "第 1 版" in after and "短く" in after and "この版に戻す" in after
    restored = client.post(path + "/restore", data={"csrf_token": token, "version": "0"})
    assert restored.status_code == 303
    assert "第 0 版の文面を、第 2 版として戻しました。" in text_of(client.get(path).text)
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        active = service.get_active(session, "first_notice", "ja", "status_page")
        shipped = service.load_default("first_notice", "ja", "status_page")
        assert active.version == 2 and active.body == shipped.body
    engine.dispose()


def test_console_preview_fragment_renders_the_draft_on_an_incident(
    client: TestClient, settings: Settings
) -> None:
    reference = _incident(settings)
    token = login(client, "operator")
    fragment = client.post(
        "/console/templates/update/ja/short/preview",
        data={"body": "【続報】{{ title }}。申し訳ございません。次回{{ next_update_short }}",
              "facts": f"incident:{reference}"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )  # fmt: skip
    assert fragment.status_code == 200
    text = text_of(fragment.text)
    assert "【続報】ログインできない障害。申し訳ございません。次回" in text
    assert "140 文字中" in text
    assert "<html" not in fragment.text  # a fragment, not a page
    broken = client.post(
        "/console/templates/update/ja/short/preview",
        data={"body": "{{ nope }}", "facts": "unconfirmed"},
        headers={"X-CSRF-Token": token},
    )
    assert broken.status_code == 200 and "使えない変数があります: nope" in text_of(broken.text)
    assert count(settings, models.MessageTemplateVersion) == 0


def test_english_console(client: TestClient, settings: Settings) -> None:
    login(client, "senior")
    page = client.get("/console/templates/resolution/en/email?lang=en")
    text = text_of(page.text)
    assert "Save as a new version" in text and "Variables" in text
    assert "[Resolved]" in text

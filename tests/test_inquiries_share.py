"""Sharing inquiries with the departments concerned (R21): routing, service, outbox, pages, CLI.

The routing is pure (``rules.suggest_departments``); the service sends one internal
message per department through the outbox and the real SMTP test server
(aiosmtpd, ``notify.sink``) and a real webhook receiver, in the department's
language, on SQLite and PostgreSQL; a refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from anshin.cli import app as cli_app
from anshin.config import Settings
from anshin.errors import Conflict, InvalidInput
from anshin.events import Event
from anshin.inquiries import departments, escalation, rules, service, share
from anshin.inquiries.models import InquiryMessage
from anshin.notify import rules as notify_rules
from anshin.notify.models import Delivery, OutboxMessage, Subscriber
from anshin.notify.sink import MailSink, SmtpSink, WebhookReceiver
from handoff_world import NOW, World, build, inquiry, user
from test_console_support import client_for, login, page_csrf
from test_notify_delivery import drain

R = rules.DepartmentRoute


# --- the routing (pure) ----------------------------------------------------------------


ROUTES = [
    R("development", intents=frozenset({"technical_question", "data_concern"})),
    R("billing", intents=frozenset({"compensation_request"}), component_ids=frozenset({7})),
    R("sales", tiers=frozenset({"important"})),
]


@pytest.mark.parametrize(
    ("intent", "components", "tier", "expected"),
    [
        ("technical_question", set(), "standard", ["development"]),  # R21: straight to dev
        ("data_concern", set(), "standard", ["development"]),
        ("compensation_request", set(), "standard", ["billing"]),
        ("status_inquiry", {7}, "standard", ["billing"]),  # an incident on its component
        ("status_inquiry", {8}, "standard", []),
        ("technical_question", set(), "important", ["development", "sales"]),
        ("complaint", set(), "standard", []),
    ],
)
def test_suggest_departments(
    intent: str, components: set[int], tier: str, expected: list[str]
) -> None:
    assert (
        rules.suggest_departments(ROUTES, intent=intent, component_ids=components, tier=tier)
        == expected
    )


def test_department_values_are_checked() -> None:
    assert rules.check_department_key(" Dev-Team_2 ") == "dev-team_2"
    for bad in ("", "開発", "a b", "x" * 41):
        with pytest.raises(InvalidInput):
            rules.check_department_key(bad)
    assert rules.check_department_intents(["data_concern", "technical_question", ""]) == [
        "data_concern",
        "technical_question",
    ]  # triage order
    with pytest.raises(InvalidInput):
        rules.check_department_intents(["bugs"])
    with pytest.raises(InvalidInput):
        rules.check_department_tiers(["vip"])
    assert rules.check_share_note("  見てください ") == "見てください"
    for note in ("", "   ", "x" * (rules.SHARE_NOTE_MAX + 1)):
        with pytest.raises(InvalidInput):
            rules.check_share_note(note)


# --- the service, the outbox, the real mail server ------------------------------------


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(MailSink()) as running:
        yield running


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def mail_settings(settings: Settings, sink: SmtpSink, hooks: WebhookReceiver) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allowed_networks": ["127.0.0.1/32"],
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_from": "anshin <status@example.com>",
            "site_name": "安心テスト",
            "delivery_backoff_base_seconds": 0.01,
            "delivery_backoff_max_seconds": 0.05,
        }
    )


def _departments(session: Session, settings: Settings, hook_url: str | None = None) -> None:
    """development (ja, webhook), billing (en), sales (important customers), legal (disabled)."""
    add = departments.DepartmentInput
    departments.add(
        session,
        settings,
        add("development", "開発部", "Development", "dev@example.com",
            webhook_url=hook_url, intents=["technical_question", "data_concern"],
            components=["ログイン"]),
        actor="test",
    )  # fmt: skip
    departments.add(
        session,
        settings,
        add("billing", "経理・契約部", "Billing and contracts", "billing@example.com",
            locale="en", intents=["compensation_request"]),
        actor="test",
    )  # fmt: skip
    departments.add(
        session,
        settings,
        add("sales", "営業部", "Sales", "sales@example.com", tiers=["important"]),
        actor="test",
    )
    legal = departments.add(
        session,
        settings,
        add("legal", "法務部", "Legal", "legal@example.com", intents=["compensation_request"]),
        actor="test",
    )
    departments.set_active(session, legal, False, actor="test")
    session.commit()


@pytest.fixture
def world(mail_settings: Settings, session: Session, hooks: WebhookReceiver) -> World:
    built = build(mail_settings, session)
    _departments(session, mail_settings, hooks.url("/dev"))
    return built


def _mails(sink: SmtpSink) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for item in sink.handler.received:
        mail = item.parse()
        plain = mail.get_body(("plain",))
        assert plain is not None
        found.setdefault(item.recipients[0], []).append((str(mail["Subject"]), plain.get_content()))
    return found


def test_suggestions_follow_the_data_and_disabled_ones_are_left_out(
    world: World, session: Session
) -> None:
    record = inquiry(session, world.inquiry)
    # compensation_request on an incident on ログイン: billing by intent, development by
    # component; legal receives compensation requests too, but is disabled.
    assert share.suggested(session, record) == ["billing", "development"]
    record.customer_tier = "important"
    assert share.suggested(session, record) == ["billing", "development", "sales"]


def test_a_technical_question_escalated_to_l3_suggests_development(
    world: World, mail_settings: Settings, session: Session
) -> None:
    record = inquiry(session, world.inquiry)
    record.intent, record.level, record.incident_id = "technical_question", 2, None
    session.commit()
    record = inquiry(session, world.inquiry)
    escalation.escalate(
        session, mail_settings, record, user(session, "supervisor"), 3, "APIの仕様確認"
    )
    session.commit()
    assert share.suggested(session, inquiry(session, world.inquiry)) == ["development"]


def test_sharing_sends_one_message_per_department_in_its_language(
    world: World,
    mail_settings: Settings,
    session: Session,
    engine: Engine,
    sink: SmtpSink,
    hooks: WebhookReceiver,
) -> None:
    record = inquiry(session, world.inquiry)
    record.level = 2
    session.commit()
    escalation.escalate(
        session, mail_settings, inquiry(session, world.inquiry), user(session, "senior"), 3, "返金"
    )  # a handoff sheet exists now
    session.commit()
    sent = share.share(
        session,
        mail_settings,
        inquiry(session, world.inquiry),
        ["development", "billing", "development"],
        "決済への影響の確認と返金の可否をお願いします。",
        actor="senior@example.com",
        now=NOW,
    )
    session.commit()
    assert [s.key for s in sent] == ["development", "billing"]  # each once
    messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    shares = [m for m in messages if (m.data or {}).get("alert") == "share"]
    assert len(shares) == 2 and {m.kind for m in shares} == {notify_rules.STAFF_NUDGE}
    assert [m.recipients for m in shares] == [2, 1]  # development: mail and webhook
    drain(mail_settings, engine)

    mails = _mails(sink)
    assert "yamada@example.com" not in mails  # never the customer
    ((subject_ja, text_ja),) = mails["dev@example.com"]
    assert subject_ja == f"【安心テスト】{world.inquiry}：開発部への共有"
    assert "決済への影響の確認と返金の可否をお願いします。" in text_ja
    assert "今朝9時頃からログインできません" in text_ja  # the customer's own words
    assert "補償の要求" in text_ja and "L3" in text_ja  # the triage
    assert world.incident in text_ja and "ログインできない障害" in text_ja
    assert "== 食い違い ==" in text_ja  # the handoff sheet, in Japanese
    assert f"http://127.0.0.1:8000/console/inquiries/{world.inquiry}" in text_ja
    assert "配信を停止" not in text_ja  # no subscriber footer
    ((subject_en, text_en),) = mails["billing@example.com"]
    assert (
        subject_en == f"[安心テスト] {world.inquiry}: an inquiry shared with Billing and contracts"
    )
    assert "Compensation request" in text_en and "Sign-in failures" in text_en
    assert "== Disagreements ==" in text_en  # the sheet in the department's language
    assert "今朝9時頃から" in text_en  # the customer's words as they wrote them
    assert [h.path for h in hooks.requests] == ["/dev"]
    assert "決済への影響" in str(hooks.requests[0].json())

    with Session(engine) as check:
        assert (
            check.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
            )
            == 3
        )
        rows = {s.address: s for s in check.scalars(select(Subscriber))}
        assert rows["dev@example.com"].status == "staff"  # never a customer notice
        event = check.scalars(
            select(Event).where(Event.action == share.ACTION).order_by(Event.id)
        ).one()
        assert event.actor == "senior@example.com"
        assert event.after is not None
        assert event.after["departments"] == ["development", "billing"]
        assert event.after["addresses"] == ["dev@example.com", "billing@example.com"]
        assert event.after["note"] == "決済への影響の確認と返金の可否をお願いします。"
        note = check.scalars(
            select(InquiryMessage).where(InquiryMessage.kind == share.SHARE_KIND)
        ).one()
        assert note.direction == "note" and note.body.startswith("開発部、経理・契約部\n")


@pytest.mark.parametrize(
    ("keys", "note", "message"),
    [
        (["development", "nowhere"], "確認を", "No such department: nowhere."),
        (["legal"], "確認を", "The department Legal is disabled; choose another one."),
        ([], "確認を", "Choose at least one department."),
        (["development"], "  ", "Write a note for the departments."),
    ],
)
def test_a_refusal_writes_nothing(
    world: World,
    mail_settings: Settings,
    session: Session,
    keys: list[str],
    note: str,
    message: str,
) -> None:
    before = session.scalar(select(func.count()).select_from(OutboxMessage))
    with pytest.raises(InvalidInput) as refused:
        share.share(
            session, mail_settings, inquiry(session, world.inquiry), keys, note, actor="test"
        )
    session.rollback()
    assert refused.value.msgid.format(**refused.value.params) == message
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == before
    assert session.scalar(select(func.count()).select_from(Event).where(
        Event.action == share.ACTION)) == 0  # fmt: skip


def test_departments_are_managed_with_events_and_a_taken_key_is_refused(
    world: World, mail_settings: Settings, session: Session
) -> None:
    with pytest.raises(Conflict):
        departments.add(
            session,
            mail_settings,
            departments.DepartmentInput("development", "開発", "Dev", "x@example.com"),
            actor="test",
        )
    session.rollback()
    with pytest.raises(InvalidInput) as refused:
        departments.add(
            session,
            mail_settings,
            departments.DepartmentInput("ops", "運用", "Ops", "ops@example.com",
                                        components=["存在しない"]),
            actor="test",
        )  # fmt: skip
    assert refused.value.field == "components"
    session.rollback()
    row = departments.get(session, "sales")
    departments.update(
        session,
        mail_settings,
        row,
        departments.DepartmentInput("sales", "営業部", "Sales", "sales2@example.com",
                                    tiers=["important"], intents=["complaint"]),
        actor="admin",
    )  # fmt: skip
    session.commit()
    assert departments.get(session, "sales").email == "sales2@example.com"
    actions = session.scalars(
        select(Event.action).where(Event.entity_type == departments.ENTITY).order_by(Event.id)
    ).all()
    assert actions.count("department.added") == 4
    assert actions[-2:] == ["department.disabled", "department.changed"]


# --- the console, the API, the CLI -----------------------------------------------------


def test_the_inquiry_page_preselects_and_shares(world: World, mail_settings: Settings) -> None:
    with client_for(mail_settings) as client:
        login(client, "operator")
        path = f"/console/inquiries/{world.inquiry}"
        html = client.get(path).text
        assert 'value="billing" checked' in html and 'value="development" checked' in html
        assert 'value="sales">' in html and "法務部" not in html  # not suggested; disabled
        token = page_csrf(client, path)
        empty = client.post(
            f"{path}/share",
            data={"csrf_token": token, "department": "development", "note": ""},
            headers={"Accept-Language": "ja"},
        )
        assert empty.status_code == 422
        assert "関係部署への連絡事項を入力してください。" in empty.text
        unknown = client.post(
            f"{path}/share",
            data={"csrf_token": token, "department": "nowhere", "note": "確認を"},
        )
        assert unknown.status_code == 422 and "該当する部署がありません: nowhere" in unknown.text
        assert 'value="nowhere"' not in unknown.text  # the list is the known departments
        done = client.post(
            f"{path}/share",
            data={"csrf_token": token, "department": ["development", "sales"], "note": "確認を"},
        )
        assert done.status_code == 303
        page = client.get(path).text
        assert "開発部、営業部に共有しました。" in page
        assert "関係部署に共有" in page


def test_moving_to_shared_sends_the_ticked_departments(
    world: World, mail_settings: Settings, session: Session
) -> None:
    record = inquiry(session, world.inquiry)
    record.stage = "resolved"
    record.closed_at = NOW
    session.commit()
    with client_for(mail_settings) as client:
        login(client, "supervisor")
        path = f"/console/inquiries/{world.inquiry}"
        html = client.get(path).text
        # The share panel and the stage form to 社内共有 both tick the suggested ones.
        assert html.count('name="department" value="billing" checked') == 2
        assert html.count('name="department" value="sales">') == 2
        token = page_csrf(client, path)
        moved = client.post(
            f"{path}/stage",
            data={"csrf_token": token, "stage": "shared", "note": "返金の件、経理へ",
                  "department": ["billing"]},
        )  # fmt: skip
        assert moved.status_code == 303, moved.text
    session.expire_all()
    assert inquiry(session, world.inquiry).stage == "shared"
    events = session.scalars(select(Event).where(Event.action == share.ACTION)).all()
    assert [e.after["departments"] for e in events if e.after] == [["billing"]]


def test_the_departments_page_is_for_admins(world: World, mail_settings: Settings) -> None:
    with client_for(mail_settings) as client:
        login(client, "supervisor")
        assert client.get("/console/departments").status_code == 403
    with client_for(mail_settings) as client:
        login(client, "admin")
        html = client.get("/console/departments").text
        assert "開発部" in html and "法務部" in html
        token = page_csrf(client, "/console/departments")
        bad = client.post(
            "/console/departments",
            data={"csrf_token": token, "key": "ops", "name_ja": "運用部", "name_en": "Ops",
                  "email": "not-an-address", "intents": ["technical_question"]},
        )  # fmt: skip
        assert bad.status_code == 422 and 'value="運用部"' in bad.text
        added = client.post(
            "/console/departments",
            data={"csrf_token": token, "key": "ops", "name_ja": "運用部", "name_en": "Ops",
                  "email": "ops@example.com", "intents": ["technical_question"]},
        )  # fmt: skip
        assert added.status_code == 303
        off = client.post(
            "/console/departments/ops/active", data={"csrf_token": token, "active": "0"}
        )
        assert off.status_code == 303
        edit = client.get("/console/departments/ops").text
        assert "もう一度有効にする" in edit
        assert client.get("/console/departments/nowhere").status_code == 404


def test_the_api(world: World, mail_settings: Settings) -> None:
    from anshin.db import make_engine, make_sessionmaker
    from anshin.team import service as team_service

    with make_sessionmaker(make_engine(mail_settings.database_url))() as s:
        raw, _ = team_service.create_token(s, user=user(s, "operator"), name="op", actor="t")
        s.commit()
    headers = {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}
    with client_for(mail_settings) as client:
        path = f"/api/inquiries/{world.inquiry}/share"
        got = client.get(path, headers=headers).json()
        assert got["suggested"] == ["billing", "development"]
        refused = client.post(path, json={"departments": ["legal"], "note": "x"}, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["error"]["message"] == (
            "The department Legal is disabled; choose another one."
        )
        made = client.post(
            path, json={"departments": ["billing"], "note": "返金の件"}, headers=headers
        )
        assert made.status_code == 201, made.text
        assert [s["key"] for s in made.json()["shared_with"]] == ["billing"]
        listed = client.get("/api/departments", headers=headers).json()
        assert [d["key"] for d in listed] == ["billing", "development", "legal", "sales"]


def test_admins_manage_departments_through_the_api(world: World, mail_settings: Settings) -> None:
    from anshin.db import make_engine, make_sessionmaker
    from anshin.team import service as team_service

    with make_sessionmaker(make_engine(mail_settings.database_url))() as s:
        admin, _ = team_service.create_token(s, user=user(s, "admin"), name="ad", actor="t")
        operator, _ = team_service.create_token(s, user=user(s, "operator"), name="op", actor="t")
        s.commit()
    as_admin = {"Authorization": f"Bearer {admin}", "Accept-Language": "ja"}
    as_operator = {"Authorization": f"Bearer {operator}", "Accept-Language": "en"}
    body = {
        "key": "support-ops",
        "name_ja": "運用部",
        "name_en": "Operations",
        "email": "ops@example.com",
        "intents": ["technical_question"],
        "components": ["Login"],
    }
    with client_for(mail_settings) as client:
        assert client.post("/api/departments", json=body, headers=as_operator).status_code == 403
        made = client.post("/api/departments", json=body, headers=as_admin)
        assert made.status_code == 201, made.text
        assert made.json()["key"] == "support-ops" and made.json()["active"] is True
        again = client.post("/api/departments", json=body, headers=as_admin)
        assert again.status_code == 409
        bad = client.post(
            "/api/departments", json={**body, "key": "運用", "email": "x"}, headers=as_admin
        )
        assert bad.status_code == 422 and "a-z" in bad.json()["error"]["message"]
        no_mail = client.post(
            "/api/departments", json={**body, "key": "ops2", "email": "not-mail"}, headers=as_admin
        )
        assert no_mail.status_code == 422 and no_mail.json()["error"]["field"] == "email"
        change = {k: v for k, v in body.items() if k != "key"} | {"intents": ["complaint"]}
        changed = client.put("/api/departments/support-ops", json=change, headers=as_admin)
        assert changed.status_code == 200 and changed.json()["intents"] == ["complaint"]
        missing = client.put("/api/departments/nowhere", json=change, headers=as_admin)
        assert missing.status_code == 404
        off = client.post(
            "/api/departments/support-ops/active", json={"active": False}, headers=as_admin
        )
        assert off.status_code == 200 and off.json()["active"] is False
        path = f"/api/inquiries/{world.inquiry}/share"
        offered = client.get(path, headers=as_operator).json()["departments"]
        assert "support-ops" not in [d["key"] for d in offered]  # disabled: not offered
        listed = client.get("/api/departments", headers=as_operator).json()
        assert "support-ops" in [d["key"] for d in listed]
    with make_sessionmaker(make_engine(mail_settings.database_url))() as s:
        found = select(Event.action).where(Event.entity_type == "department")
        actions = list(s.scalars(found.order_by(Event.id)))
    assert actions[-3:] == ["department.added", "department.changed", "department.disabled"]


@pytest.fixture
def run(db_url: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str, lang: str = "en_US.UTF-8") -> Result:
        env = {"ANSHIN_DATABASE_URL": db_url, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
        return runner.invoke(cli_app, list(args), env=env)

    return invoke


def test_the_cli(world: World, run: Any, session: Session) -> None:
    added = run("department", "add", "support-ops", "--name-ja", "運用部", "--name-en", "Ops",
                "--email", "ops@example.com", "--intent", "technical_question",
                "--component", "Login")  # fmt: skip
    assert added.exit_code == 0, added.output
    taken = run("department", "add", "support-ops", "--name-ja", "運用部", "--name-en", "Ops",
                "--email", "ops@example.com")  # fmt: skip
    assert taken.exit_code == 1 and "exists already" in taken.stderr
    listed = run("department", "list", "--format", "json")
    assert '"support-ops"' in listed.stdout
    assert run("department", "disable", "support-ops").exit_code == 0
    refused = run("inquiry", "share", world.inquiry, "--to", "support-ops", "--note", "確認を",
                  lang="ja_JP.UTF-8")  # fmt: skip
    assert refused.exit_code == 1 and refused.stderr.startswith("--to: 部署「運用部」は無効です")
    done = run("inquiry", "share", world.inquiry, "--note", "確認をお願いします")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"{world.inquiry} shared with billing, development."
    assert run("department", "disable", "nowhere").exit_code == 1
    session.expire_all()
    events = session.scalars(select(Event).where(Event.action == share.ACTION)).all()
    assert len(events) == 1


def test_the_demo_loads_the_three_departments_once(settings: Settings, session: Session) -> None:
    from anshin.demo import load_demo

    load_demo(session, settings, actor="test", inquiries=0, now=dt.datetime.now(dt.UTC))
    session.commit()
    keys = [d.key for d in departments.listing(session)]
    assert keys == ["billing", "development", "sales"]
    again = load_demo(session, settings, actor="test", inquiries=0)
    assert not [c for c in again.created if c.startswith("department")]
    development = departments.get(session, "development")
    assert "technical_question" in development.intents
    record = service.receive(
        session,
        settings,
        service.NewInquiry(channel="form", text="APIが500を返します", customer_tier="important"),
        actor="test",
        triage=service.TriageValues(
            incident_id=None, intent="technical_question", level=3, temperature=1,
            harassment=False,
        ),
    )  # fmt: skip
    assert share.suggested(session, record) == ["development", "sales"]


def test_the_api_move_to_shared_with_departments_is_all_or_nothing(
    world: World, mail_settings: Settings, session: Session
) -> None:
    from anshin.db import make_engine, make_sessionmaker
    from anshin.team import service as team_service

    record = inquiry(session, world.inquiry)
    record.stage, record.closed_at = "resolved", NOW
    session.commit()
    with make_sessionmaker(make_engine(mail_settings.database_url))() as s:
        raw, _ = team_service.create_token(s, user=user(s, "supervisor"), name="sv", actor="t")
        s.commit()
    headers = {"Authorization": f"Bearer {raw}", "Accept-Language": "ja"}
    path = f"/api/inquiries/{world.inquiry}/stage"
    with client_for(mail_settings) as client:
        body = {"stage": "shared", "note": "経理へ", "departments": ["legal"]}
        refused = client.post(path, json=body, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["error"]["message"] == (
            "部署「法務部」は無効です。ほかの部署を選んでください。"
        )
        session.expire_all()
        assert inquiry(session, world.inquiry).stage == "resolved"  # the move was not kept
        body["departments"] = ["billing"]
        moved = client.post(path, json=body, headers=headers)
        assert moved.status_code == 200, moved.text
    session.expire_all()
    assert inquiry(session, world.inquiry).stage == "shared"
    events = session.scalars(select(Event).where(Event.action == share.ACTION)).all()
    assert [e.after["departments"] for e in events if e.after] == [["billing"]]

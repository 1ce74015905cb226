"""The console page of an incident's reports (issue 10 §6): downloads, publishing, follow-ups.

Through the real app and a signed-in session: each report downloads in each
format; publishing asks for the ticked box, shows the message check's
findings and keeps what was typed when refused, lets only a senior override;
follow-up tasks are stored once. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.events import Event
from anshin.incidents.models import Incident
from anshin.review import actions
from anshin.team.models import User
from report_world import CHANGES_JA, REFLECTION_JA, resolved
from test_console_support import client_for, count, login, seed, text_of


def _incident(session: Session, settings: Settings) -> Incident:
    seed(settings)
    return resolved(session, settings, utcnow().replace(microsecond=0) - dt.timedelta(days=1))


def test_the_page_and_every_download(session: Session, settings: Settings) -> None:
    ref = _incident(session, settings).reference
    client = client_for(settings)
    login(client, "operator")
    base = f"/console/incidents/{ref}/review"
    page = client.get(f"{base}/report")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "再発防止策（日本語）" in shown and "株式会社<大口>" in shown
    assert f'href="{base}/export/internal/pdf"' in page.text
    record = client.get(f"/console/incidents/{ref}").text
    assert f'href="{base}/report"' in record  # reached from the incident's Report panel
    for kind in ("customer", "internal"):
        for fmt, media in (
            ("md", "text/markdown"),
            ("html", "text/html"),
            ("pdf", "application/pdf"),
        ):
            got = client.get(f"{base}/export/{kind}/{fmt}")
            assert got.status_code == 200, (kind, fmt)
            assert got.headers["content-type"].startswith(media)
            assert f'filename="{ref}-{kind}-ja.{fmt}"' in got.headers["content-disposition"]
    assert client.get(f"{base}/export/internal/pdf").content.startswith(b"%PDF")
    english = client.get(f"{base}/export/customer/md?lang=en").text
    assert english.startswith("# Incident report: Sign-in failures")
    assert client.get(f"{base}/export/press/pdf").status_code == 422
    assert client.get(f"{base}/export/internal/docx").status_code == 422
    assert client.get("/console/incidents/INC-1999-0001/review/report").status_code == 404


def test_publishing_is_checked_and_only_a_senior_overrides(
    session: Session, settings: Settings
) -> None:
    ref = _incident(session, settings).reference
    url = f"/console/incidents/{ref}/review/publish"
    operator = client_for(settings)
    token = login(operator, "operator")
    events = count(settings, Event)
    blaming = {"changes_ja": CHANGES_JA, "reflection_ja": "お客様の操作ミスが原因です。"}
    checked = operator.post(
        f"/console/incidents/{ref}/review/check", data={**blaming, "csrf_token": token}
    )
    assert checked.status_code == 200 and 'class="finding finding-error' in checked.text
    assert "■ 当社としての反省\nお客様の操作ミスが原因です。" in checked.text  # the draft as typed
    fine = operator.post(
        f"/console/incidents/{ref}/review/check",
        data={"changes_ja": CHANGES_JA, "reflection_ja": REFLECTION_JA, "csrf_token": token},
    )
    assert "エラーはありません" in text_of(fine.text) and "finding-error" not in fine.text
    unticked = operator.post(url, data={**blaming, "csrf_token": token})
    assert unticked.status_code == 422 and "お客様の操作ミス" in unticked.text  # kept
    refused = operator.post(url, data={**blaming, "csrf_token": token, "confirm": "yes"})
    assert refused.status_code == 422
    assert 'class="finding finding-error' in refused.text
    assert 'name="override_reason"' not in refused.text  # an operator cannot override
    forced = operator.post(
        url, data={**blaming, "csrf_token": token, "confirm": "yes", "override_reason": "x"}
    )
    assert forced.status_code == 403
    assert count(settings, Event) == events  # refusals wrote nothing
    senior = client_for(settings)
    token = login(senior, "senior")
    done = senior.post(
        url,
        data={**blaming, "csrf_token": token, "confirm": "yes", "override_reason": "法務確認済み"},
    )
    assert done.status_code == 303, text_of(done.text)
    page = text_of(senior.get(f"/console/incidents/{ref}/review/report").text)
    assert "報告書公開のお知らせを公開しました。" in page  # the flash
    assert "お客様の操作ミスが原因です。" in page  # the published text, as checked


def test_a_clean_report_publishes_and_followups_save(session: Session, settings: Settings) -> None:
    incident = _incident(session, settings)
    owner = session.scalars(select(User).where(User.role == "senior")).one()
    actions.add_action(
        session,
        incident,
        title="設定変更の二重確認",
        owner=owner,
        due_on=dt.date(2030, 1, 31),
        today=dt.date(2026, 12, 1),
        actor="test",
    )
    session.commit()
    base = f"/console/incidents/{incident.reference}/review"
    client = client_for(settings)
    token = login(client, "operator")
    first = client.get(f"{base}/report").text  # "what we are changing" starts from the actions
    assert "・設定変更の二重確認（2030-01-31までに実施）</textarea>" in first
    empty = client.post(f"{base}/publish", data={"csrf_token": token, "confirm": "yes"})
    assert empty.status_code == 422 and "再発防止策と当社としての反省を書いてください" in empty.text
    done = client.post(
        f"{base}/publish",
        data={
            "changes_ja": CHANGES_JA,
            "reflection_ja": REFLECTION_JA,
            "csrf_token": token,
            "confirm": "yes",
        },
    )
    assert done.status_code == 303
    session.expire_all()
    assert incident.report_published_at is not None
    status_page = client_for(settings).get("/").text  # what anyone sees, signed in or not
    assert "■ 再発防止策" in status_page and CHANGES_JA in status_page
    saved = client.post(f"{base}/followups", data={"csrf_token": token})
    assert saved.status_code == 303
    page = text_of(client.get(f"{base}/report").text)
    assert "フォローアップのタスクを登録しました：2件" in page
    assert page.count("タスク登録済み") == 2

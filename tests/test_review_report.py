"""The customer report and the internal review report of an incident (issue 10 §6; R7, R8, R9).

Built from a real resolved incident (``report_world``): the report's sections
read the record, publishing goes through the report notice's path and its
message check, the exports are real Markdown, HTML and PDF (its text
extracted with pdftotext), the charts are well-formed SVG that escape what
they show. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.db import utcnow
from anshin.errors import Forbidden, InvalidInput, NotFound
from anshin.events import Event
from anshin.incidents.notices import MessageCheckFailed
from anshin.notify.models import OutboxMessage
from anshin.review import charts, customer, document, export, followups
from report_world import CAUSE, CHANGES_JA, REFLECTION_JA, resolved

WRITTEN = customer.Written({"ja": CHANGES_JA}, {"ja": REFLECTION_JA})
SVG = "{http://www.w3.org/2000/svg}"


def _world(session: Session, settings: Settings) -> tuple[dt.datetime, object]:
    t0 = utcnow().replace(microsecond=0) - dt.timedelta(days=1)
    return t0, resolved(session, settings, t0)


def test_the_customer_draft_reads_the_record(session: Session, settings: Settings) -> None:
    t0, incident = _world(session, settings)
    now = t0 + dt.timedelta(hours=3)
    text = customer.draft_text(session, settings, incident, "ja", WRITTEN, now)
    assert "報告書を公開いたしました" in text  # the report_notice template's announcement
    for heading in (
        "発生した事象",
        "発生期間",
        "影響範囲",
        "原因",
        "再発防止策",
        "当社としての反省",
    ):
        assert f"■ {heading}" in text
    assert "ログイン" in text and "約1,200名" in text and "お問い合わせ件数：6件" in text
    assert CAUSE in text and CHANGES_JA in text and REFLECTION_JA in text
    english = customer.draft_text(session, settings, incident, "en", WRITTEN, now)
    assert "■ What happened" in english and "Sign-in" in english
    assert "(not written yet)" in english  # no English sections were written
    # An unconfirmed cause is never stated (R3).
    incident.cause_confirmed = False
    assert CAUSE not in customer.draft_text(session, settings, incident, "ja", WRITTEN, now)


def test_publishing_goes_through_the_report_notice_and_its_check(
    session: Session, settings: Settings
) -> None:
    t0, incident = _world(session, settings)
    now = t0 + dt.timedelta(hours=3)
    with pytest.raises(InvalidInput) as unwritten:
        customer.publish(
            session,
            settings,
            incident,
            customer.NOTHING_WRITTEN,
            actor="test",
            actor_role="operator",
            now=now,
        )
    assert unwritten.value.field == "changes_ja"
    # A reflection that blames the customer is an error finding: refused, nothing published.
    blaming = customer.Written({"ja": CHANGES_JA}, {"ja": "お客様の操作ミスが原因です。"})
    with pytest.raises(MessageCheckFailed):
        customer.publish(
            session, settings, incident, blaming, actor="test", actor_role="operator", now=now
        )
    session.rollback()
    assert customer.published(session, incident) is None
    # An operator cannot override; a senior can, with a reason the event keeps.
    with pytest.raises(Forbidden):
        customer.publish(
            session,
            settings,
            incident,
            blaming,
            actor="test",
            actor_role="operator",
            override_reason="確認済み",
            now=now,
        )
    session.rollback()
    update = customer.publish(
        session,
        settings,
        incident,
        blaming,
        actor="test:senior",
        actor_role="senior",
        override_reason="法務確認済み",
        now=now,
    )
    session.commit()
    override = session.scalars(
        select(Event).where(Event.action == "message.check_overridden")
    ).one()
    assert override.after["update_id"] == update.id and override.after["kind"] == "report_notice"
    # What is published is exactly what was checked: the stored body is the report.
    assert update.body_ja == customer.draft_text(session, settings, incident, "ja", blaming, now)
    assert incident.report_published_at == now
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.update_id == update.id))
    assert message.one().kind == "report_notice"  # sent to subscribers the existing way


def test_a_clean_report_publishes_and_the_export_is_what_was_published(
    session: Session, settings: Settings
) -> None:
    t0, incident = _world(session, settings)
    now = t0 + dt.timedelta(hours=3)
    update = customer.publish(
        session, settings, incident, WRITTEN, actor="test", actor_role="operator", now=now
    )
    session.commit()
    doc = document.build(session, settings, incident.reference, "customer", "ja", now)
    assert doc.notes[0].startswith("公開")
    body = "\n".join(p for s in doc.sections for p in s.paragraphs)
    assert CHANGES_JA in body and REFLECTION_JA in body
    assert [s.heading for s in doc.sections][:3] == ["お知らせ", "発生した事象", "発生期間"]
    assert update.body_ja.count("■") == 6


def test_the_internal_report_has_metrics_charts_timeline_and_followups(
    session: Session, settings: Settings
) -> None:
    t0, incident = _world(session, settings)
    now = t0 + dt.timedelta(hours=3)
    doc = document.build(session, settings, incident.reference, "internal", "ja", now)
    by_heading = {s.heading: s for s in doc.sections}
    metrics = {row[0].split("\n")[-1]: row[1] for row in by_heading["指標"].rows}
    assert metrics["inquiries_total"] == "6" and metrics["cadence_kept"] == "33%"
    # 45 > 40, 70 <= 75, 121 > 100
    assert metrics["first_notice_seconds"] == "0:10:00"
    charts_found = [s.chart for s in doc.sections if s.chart]
    assert len(charts_found) == 3
    for svg in charts_found:
        assert svg is not None
        ET.fromstring(svg)  # well-formed
    assert [r[2] for r in by_heading["エスカレーション"].rows] == ["1 → 2"]
    assert by_heading["お約束"].rows[0][1] == "担当者から折り返しお電話します"
    important = by_heading["重要顧客：翌日のフォローアップ"].rows
    assert [r[1] for r in important] == ["株式会社<大口>", "Big Client Ltd"]


def test_followups_are_drafted_and_saved_once_as_the_next_step(
    session: Session, settings: Settings
) -> None:
    t0, incident = _world(session, settings)
    now = t0 + dt.timedelta(hours=3)
    listed = followups.for_incident(session, settings, incident, now)
    assert [f.saved for f in listed] == [False, False]
    assert "株式会社<大口>" in listed[0].draft and "お詫び" in listed[0].draft
    saved = followups.save(session, settings, incident, actor="test", now=now)
    session.commit()
    assert all(f.saved for f in saved)
    assert saved[0].due_at == followups.due_at(now, settings.timezone)
    events = lambda: session.scalars(  # noqa: E731
        select(Event).where(Event.action == "inquiry.next_action_set")
    ).all()
    assert len(events()) == 2
    followups.save(session, settings, incident, actor="test", now=now + dt.timedelta(hours=1))
    session.commit()
    assert len(events()) == 2  # saving twice is saving once


def test_exports_in_every_format(session: Session, settings: Settings, tmp_path: Path) -> None:
    t0, incident = _world(session, settings)
    now = t0 + dt.timedelta(hours=3)
    doc = document.build(session, settings, incident.reference, "internal", "ja", now)
    markdown = export.write(doc, "md").decode()
    assert markdown.startswith("# 社内振り返り") and "data:image/svg+xml;base64," in markdown
    assert "株式会社\\<大口\\>" in markdown  # escaped, never markup
    page = export.write(doc, "html").decode()
    assert "株式会社&lt;大口&gt;" in page and "<svg" in page and "<script" not in page
    pdf = export.write(doc, "pdf")
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert "社内振り返り" in text and "inquiries_total" in text and "株式会社<大口>" in text
    cust = document.build(session, settings, incident.reference, "customer", "ja", now, WRITTEN)
    cust_pdf = export.write(cust, "pdf")
    assert cust_pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        path.write_bytes(cust_pdf)
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert "再発防止策" in text and "下書き" in text


def test_bad_kind_format_and_reference_are_refused(session: Session, settings: Settings) -> None:
    with pytest.raises(InvalidInput) as kind:
        document.check_kind("press")
    assert kind.value.field == "kind"
    with pytest.raises(InvalidInput) as fmt:
        export.check_format("docx")
    assert fmt.value.field == "format"
    with pytest.raises(NotFound):
        document.build(session, settings, "INC-1999-0001", "customer", "ja", utcnow())


def test_charts_escape_their_text_and_draw_negative_bars() -> None:
    svg = charts.bar_chart(
        [charts.Bar("<a>&", 3), charts.Bar("b", -2, "ok")],
        title='x"<script>alert(1)</script>',
        unit="件",
        markers=[charts.Marker(1.5, "#1 <b>")],
    )
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<a>&" in texts and "#1 <b>" in texts
    assert "<script>" not in svg and root.find(f"{SVG}script") is None
    assert len(root.findall(f"{SVG}rect")) == 3  # the background and two bars
    empty = ET.fromstring(charts.bar_chart([], title="t", unit="u", empty="なし"))
    assert [t.text for t in empty.iter(f"{SVG}text")] == ["t", "なし"]
    assert [b.value for b in charts.response_buckets([60, 600, 3000, 9000])] == [1, 1, 0, 1, 0, 1]


def test_english_readers_get_the_english_report_once_both_sections_are_written(
    session: Session, settings: Settings
) -> None:
    t0, incident = _world(session, settings)
    now = t0 + dt.timedelta(hours=3)
    half = customer.Written(
        {"ja": CHANGES_JA, "en": "Two people review each change."}, WRITTEN.reflection
    )
    assert customer.texts_for(session, settings, incident, half, now)["en"] is None
    both = customer.Written(
        {"ja": CHANGES_JA, "en": "Two people now review each configuration change."},
        {"ja": REFLECTION_JA, "en": "Our first notice came too late and kept you waiting."},
    )
    update = customer.publish(
        session, settings, incident, both, actor="test", actor_role="operator", now=now
    )
    session.commit()
    assert update.body_en is not None
    assert "■ What we are changing\nTwo people now review" in update.body_en
    assert "■ Our reflection\nOur first notice came too late" in update.body_en

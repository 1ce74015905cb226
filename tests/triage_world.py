"""Open incidents in a real database for triage tests: sign-in, payments, one resolved."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from anshin.incidents.models import Component, Incident, IncidentComponent, IncidentUpdate

NOW = dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.UTC)


def _incident(reference: str, title: str, title_en: str, summary: str, **extra: object) -> Incident:
    values: dict[str, object] = {
        "reference": reference,
        "title": title,
        "title_en": title_en,
        "summary": summary,
        "severity": "sev2",
        "status": "investigating",
        "started_at": NOW,
        "detected_at": NOW,
        "declared_at": NOW,
        "created_by": "test",
    }
    values.update(extra)
    return Incident(**values)


def add_incidents(session: Session) -> dict[str, Incident]:
    """Three incidents: sign-in and payments open, a resolved one triage must ignore."""
    login = _incident(
        "INC-2026-0101",
        "ログインできない障害",
        "Sign-in failures",
        "一部のお客様が管理画面にログインできません。",
    )
    login.components = [
        IncidentComponent(
            component=Component(name="ログイン", name_en="Sign-in"), impact="major_outage"
        )
    ]
    login.updates = [
        IncidentUpdate(
            status="investigating",
            body_ja="ログイン時にエラー AUTH-503 が表示される事象を調査しています。",
            body_en="The login page shows error AUTH-503. We are investigating.",
            author="test",
            published_at=NOW,
        ),
        IncidentUpdate(
            status="investigating",
            body_ja="社内メモ: 認証DBのフェイルオーバー",
            audience="internal",
            author="test",
            published_at=NOW,
        ),
    ]
    pay = _incident(
        "INC-2026-0102",
        "決済の二重請求",
        "Duplicate card charges",
        "クレジットカード決済が二重に計上されることがあります。",
        workaround="請求書払いをご利用いただけます。",
    )
    pay.components = [
        IncidentComponent(
            component=Component(name="決済", name_en="Payments"), impact="partial_outage"
        )
    ]
    old = _incident(
        "INC-2026-0050",
        "ファイルのアップロード障害",
        "Upload failures",
        "ファイルのアップロードに失敗します。",
        status="resolved",
        resolved_at=NOW,
    )
    session.add_all([login, pay, old])
    session.flush()
    return {"login": login, "pay": pay, "old": old}

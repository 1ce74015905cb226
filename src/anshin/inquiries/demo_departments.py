"""The demo's departments (R21): development, billing and contracts, sales for key accounts.

Technical questions and data concerns, and incidents on the API, go to
development; compensation requests and incidents on payments to billing and
contracts; every inquiry from an important customer to sales. Only keys not
yet present are added, so ``anshin demo`` twice changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.inquiries import departments
from anshin.inquiries.models import Department

# (key, ja, en, address, intents, components, tiers)
DEPARTMENTS: tuple[tuple[str, str, str, str, list[str], list[str], list[str]], ...] = (
    (
        "development",
        "開発部",
        "Development",
        "dev-team@example.com",
        ["technical_question", "data_concern"],
        ["REST API", "Webhook 送信"],
        [],
    ),
    (
        "billing",
        "経理・契約部",
        "Billing and contracts",
        "billing@example.com",
        ["compensation_request"],
        ["クレジットカード決済", "請求書払い"],
        [],
    ),
    (
        "sales",
        "営業部（重要顧客担当）",
        "Sales (key accounts)",
        "key-accounts@example.com",
        [],
        [],
        ["important"],
    ),
)


def load_departments(session: Session, settings: Settings, *, actor: str) -> list[str]:
    """Add the demo departments that are missing; their keys."""
    added: list[str] = []
    for key, name_ja, name_en, email, intents, components, tiers in DEPARTMENTS:
        if session.scalar(select(Department.id).where(Department.key == key)) is not None:
            continue
        departments.add(
            session,
            settings,
            departments.DepartmentInput(
                key=key,
                name_ja=name_ja,
                name_en=name_en,
                email=email,
                intents=intents,
                components=components,
                tiers=tiers,
            ),
            actor=actor,
        )
        added.append(key)
    return added

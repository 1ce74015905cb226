"""``anshin inquiry list|show|claim|escalate|stage`` against a real database (R19, R22, R23)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from anshin.cli import app
from anshin.config import Settings
from anshin.inquiries import queues
from anshin.inquiries.models import Inquiry
from desk_world import SAMPLES, World, seeded
from test_console_support import USERS, database


@pytest.fixture
def world(settings: Settings) -> World:
    return seeded(settings)


@pytest.fixture
def run(settings: Settings) -> Any:
    runner = CliRunner()

    def invoke(*args: str, lang: str = "en_US.UTF-8") -> Result:
        env = {
            "ANSHIN_DATABASE_URL": settings.database_url,
            "ANSHIN_SECRET_KEY": settings.secret_key,
            "LANG": lang,
            "LC_ALL": "",
            "LC_MESSAGES": "",
        }
        return runner.invoke(app, ["inquiry", *args], env=env)

    return invoke


def test_list_filters_and_orders(run: Any, world: World) -> None:
    done = run("list", "--level", "1", "--format", "json")
    assert done.exit_code == 0, done.output
    rows = json.loads(done.stdout)
    expected = {r for r, s in zip(world.inquiries, SAMPLES, strict=True) if s.level == 1}
    assert {r["reference"] for r in rows} == expected
    assert [r["due_at"] for r in rows] == sorted(r["due_at"] for r in rows)
    table = run("list", "--channel", "phone")
    assert table.exit_code == 0 and "田中" in table.stdout
    mine = run("list", "--view", "mine", "--as", USERS["senior"][0], "--format", "json")
    assert [r["holder"] for r in json.loads(mine.stdout)] == [USERS["senior"][1]]
    assert run("list", "--level", "7").exit_code == 2
    assert run("list", "--view", "mine").exit_code == 2


def test_claim_escalate_stage_and_refusals(run: Any, world: World, settings: Settings) -> None:
    ref = world.inquiries[0]
    operator, senior = USERS["operator"][0], USERS["senior"][0]
    done = run("claim", ref, "--as", operator)
    assert done.exit_code == 0, done.output
    lost = run("claim", ref, "--as", senior)
    assert lost.exit_code == 1 and USERS["operator"][1] in lost.output
    assert run("stage", ref, "listening", "--as", operator).exit_code == 0
    assert run("stage", ref, "resolved", "--as", operator).exit_code != 0
    no_reason = run("escalate", ref, "--level", "2", "--reason", " ", "--as", operator)
    assert no_reason.exit_code == 2
    up = run("escalate", ref, "--level", "2", "--reason", "詳しい説明が必要", "--as", operator)
    assert up.exit_code == 0, up.output
    shown = run("show", ref, "--format", "json")
    data = json.loads(shown.stdout)
    assert data["level"] == 2 and data["holder"] is None
    assert [e["action"] for e in data["history"]][-3:] == [
        "inquiry.claimed",
        "inquiry.stage_changed",
        "inquiry.escalated",
    ]
    assert run("show", "Q-1999-000001").exit_code == 1
    assert run("claim", ref, "--as", "nobody@example.com").exit_code == 1
    with database(settings) as session:
        inquiry = session.scalar(select(Inquiry).where(Inquiry.reference == ref))
        assert inquiry is not None and inquiry.stage == "listening"


def test_list_pages_past_the_first(run: Any, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads a queue a page at a time; a bad --page is an exit 2 with the reason."""
    monkeypatch.setattr(queues, "QUEUE_LIMIT", 2)
    pages = [
        json.loads(run("list", "--page", str(n), "--format", "json").stdout) for n in range(1, 10)
    ]
    assert len(pages[0]) == 2  # the first page, as without --page
    seen = [row["reference"] for rows in pages for row in rows]
    assert len(seen) == len(set(seen)) > 2  # pages never overlap, and go past the first
    assert set(seen) <= set(world.inquiries) and pages[-1] == []
    table = run("list")
    assert "Next: --page 2" in table.stdout and f"of {len(seen)}" in table.stdout
    ja = run("list", "--page", "2", lang="ja_JP.UTF-8")
    assert f"{len(seen)} 件中 3–4 件目" in ja.stdout and "続き: --page 3" in ja.stdout
    bad = run("list", "--page", "zero")
    assert bad.exit_code == 2 and "--page" in bad.output

"""``anshin review report|publish|followups`` (issue 10 §6): files written, refusals, exit codes.

A real database per backend; the commands run through the root app as a
terminal would (``CliRunner``), in English so the messages can be read here.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from anshin.cli import app as cli_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents.models import Incident
from report_world import CHANGES_JA, REFLECTION_JA, resolved


def _env(db_url: str) -> dict[str, str]:
    return {"ANSHIN_DATABASE_URL": db_url, "LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


def _run(db_url: str, *args: str) -> object:
    return CliRunner().invoke(cli_app, ["review", *args], env=_env(db_url))


def _incident(session: Session, settings: Settings) -> Incident:
    return resolved(session, settings, utcnow().replace(microsecond=0) - dt.timedelta(days=1))


def test_report_writes_each_format(
    session: Session, settings: Settings, db_url: str, tmp_path: Path
) -> None:
    ref = _incident(session, settings).reference
    markdown = CliRunner().invoke(
        cli_app, ["review", "report", ref, "--kind", "internal"], env=_env(db_url)
    )
    assert markdown.exit_code == 0, markdown.output
    assert markdown.stdout.startswith("# Internal review: Sign-in failures")
    assert "<br>inquiries\\_total | 6 |" in markdown.stdout  # label, exact name; "_" escaped
    page = CliRunner().invoke(
        cli_app, ["review", "report", ref, "--format", "html", "--lang", "ja"], env=_env(db_url)
    )
    assert page.exit_code == 0 and "<h2>再発防止策</h2>" in page.stdout
    target = tmp_path / "report.pdf"
    pdf = CliRunner().invoke(
        cli_app,
        ["review", "report", ref, "--format", "pdf", "--output", str(target)],
        env=_env(db_url),
    )
    assert pdf.exit_code == 0, pdf.output
    assert target.read_bytes().startswith(b"%PDF") and "Report written to" in pdf.stdout


def test_bad_input_gets_a_clear_refusal_and_an_exit_code(
    session: Session, settings: Settings, db_url: str, tmp_path: Path
) -> None:
    ref = _incident(session, settings).reference
    cases = [
        (["report", ref, "--format", "docx"], 2, "Unknown report format: docx"),
        (["report", ref, "--kind", "press"], 2, "Unknown report kind: press"),
        (["report", ref, "--lang", "fr"], 2, "Unknown language: fr"),
        (["report", "INC-1999-0001"], 1, "No such incident: INC-1999-0001"),
        (["report", ref, "--format", "pdf"], 2, "--output: A PDF is written to a file"),
        (
            ["report", ref, "--output", str(tmp_path / "missing" / "x.md")],
            2,
            "--output: Cannot write",
        ),
        (["publish", ref], 1, "Write what we are changing and our reflection"),
        (["followups", "INC-1999-0001"], 1, "No such incident"),
    ]
    for args, code, message in cases:
        result = CliRunner().invoke(cli_app, ["review", *args], env=_env(db_url))
        assert result.exit_code == code, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output


def test_publish_checks_and_followups_save(
    session: Session, settings: Settings, db_url: str
) -> None:
    incident = _incident(session, settings)
    ref = incident.reference
    blamed = CliRunner().invoke(
        cli_app,
        [
            "review",
            "publish",
            ref,
            "--changes",
            CHANGES_JA,
            "--reflection",
            "お客様の操作ミスです。",
        ],
        env=_env(db_url),
    )
    assert blamed.exit_code == 1 and "message check" in blamed.stderr.lower()
    done = CliRunner().invoke(
        cli_app,
        ["review", "publish", ref, "--changes", CHANGES_JA, "--reflection", REFLECTION_JA],
        env=_env(db_url),
    )
    assert done.exit_code == 0, done.output
    session.expire_all()
    assert incident.report_published_at is not None
    shown = CliRunner().invoke(
        cli_app, ["review", "followups", ref, "--save", "--format", "json"], env=_env(db_url)
    )
    assert shown.exit_code == 0, shown.output
    listed = json.loads(shown.stdout)
    assert [f["customer"] for f in listed] == ["株式会社<大口>", "Big Client Ltd"]
    assert all(f["saved"] and f["due_at"].endswith("10:00:00+09:00") for f in listed)

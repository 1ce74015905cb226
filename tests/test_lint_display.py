"""The console lists findings in reading order, merged per sentence, named in the reader's language.

Issue 7 §3: a writer reads a draft from the top, so the list follows the
text; two rules on the same words of a sentence are one entry naming both;
the Japanese console names rules in Japanese and the English one in English
(the rule id stays in ``data-rule`` for scripts). SQLite and PostgreSQL.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from anshin.comms.lint import Finding, check
from anshin.comms.lint.display import RULE_NAMES, group_findings, rule_name
from anshin.comms.lint.lexicon import ENTRY_RULES
from anshin.config import Settings
from anshin.i18n import translate
from test_console_compose import _fields
from test_console_incidents import _declare
from test_console_support import client_for, login, seed, text_of

# excuse on 委託先…によるもの, jargon on サーバー inside it; a guess in the next sentence
OVERLAPPING = "障害は委託先のサーバー不具合によるものです。おそらく夕方には直ります。"


def _f(rule: str, start: int, end: int, severity: str = "warning") -> Finding:
    return Finding(rule, severity, start, end, "m", "s")


def test_overlapping_findings_in_a_sentence_become_one_entry_naming_every_rule() -> None:
    groups = group_findings(check(OVERLAPPING, kind="update"), OVERLAPPING, "ja")
    merged = [g for g in groups if {"excuse", "jargon"} <= set(g.rules)]
    assert len(merged) == 1
    entry = merged[0]
    assert entry.severity == "error"  # the most serious of its findings
    assert OVERLAPPING[entry.start : entry.end].startswith("委託先")
    starts = [g.start for g in groups]
    assert starts == sorted(starts)  # reading order


def test_findings_of_different_sentences_or_about_a_sentence_stay_apart() -> None:
    text = "サーバーです。サーバーです。"
    findings = [
        _f("jargon", 0, 4),
        _f("missing-apology", 0, 7, "error"),
        _f("jargon", 7, 11),
        _f("speculation", 9, 13, "error"),
        _f("jargon", 4, 6),  # touches the first jargon but does not overlap it
    ]
    groups = group_findings(findings, text, "ja")
    assert [g.rules for g in groups] == [
        ("jargon",),
        ("missing-apology",),
        ("jargon",),
        ("jargon", "speculation"),
    ]
    assert [(g.start, g.end) for g in groups] == [(0, 4), (0, 7), (4, 6), (7, 13)]


def test_every_rule_has_a_name_in_both_languages() -> None:
    rules = {*ENTRY_RULES, "missing-apology", "missing-next-update", "missing-empathy"}
    rules.add("long-sentence")
    assert rules <= set(RULE_NAMES)
    for rule in rules:
        english, japanese = translate("en", rule_name(rule)), translate("ja", rule_name(rule))
        assert english != rule and japanese != english, rule
    assert rule_name("team-rule") == "team-rule"  # a rule from a data file keeps its id


@pytest.fixture
def client(settings: Settings) -> TestClient:
    seed(settings)
    return client_for(settings)


def _entries(fragment: str) -> list[str]:
    return re.findall(r'<li class="finding[^"]*" data-rules="([^"]*)"', fragment)


def test_the_compose_box_lists_merged_entries_in_the_readers_language(
    client: TestClient, settings: Settings
) -> None:
    token = login(client, "operator")
    location = _declare(client, settings, token)
    page = client.get(location).text
    data = _fields(page, body_ja=OVERLAPPING, body_en="We are sorry. Probably a server issue.")
    ja = client.post(f"{location}/check", data=data, headers={"X-CSRF-Token": token})
    assert ja.status_code == 200
    entries = _entries(ja.text)
    assert any({"excuse", "jargon"} <= set(e.split()) for e in entries)
    assert 'data-rule="excuse"' in ja.text and 'data-rule="jargon"' in ja.text
    text = text_of(ja.text)
    assert "言い訳・責任転嫁 · 専門用語" in text or "専門用語 · 言い訳・責任転嫁" in text
    assert "推測" in text and "speculation" not in text
    marks = re.findall(r"<mark>([^<]*)</mark>", ja.text.split("English")[0])
    positions = [OVERLAPPING.find(mark[:4]) for mark in marks]
    assert len(marks) >= 3 and -1 not in positions
    assert positions == sorted(positions)  # reading order

    en = client.post(f"{location}/check?lang=en", data=data, headers={"X-CSRF-Token": token})
    english = text_of(en.text)
    assert "Excuse or blame" in english and "Technical word" in english and "Guess" in english
    assert "言い訳・責任転嫁" not in english
    # the messages stay in the language of the text they are about
    assert "推測です" in english

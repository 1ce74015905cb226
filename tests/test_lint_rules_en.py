"""The message check on English outage messages (global teams, English complete)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from anshin.comms.lint import IncidentFacts, check

GOOD_UPDATE = (
    "We're sorry: since 14:05 JST some customers cannot sign in to the dashboard. "
    "We know how disruptive this is in the middle of a working day.\n"
    "Our engineers are restoring access now. The cause is still being investigated.\n"
    "We will post the next update by 15:30 JST."
)


def spans(
    text: str,
    rule: str,
    kind: str = "report_notice",
    facts: IncidentFacts | None = None,
    avoid_expressions: Sequence[tuple[str, str]] = (),
) -> list[str]:
    """The original words each finding of ``rule`` underlines."""
    findings = check(text, kind=kind, locale="en", facts=facts, avoid_expressions=avoid_expressions)
    return [text[f.start : f.end] for f in findings if f.rule == rule]


def test_a_good_update_has_no_findings() -> None:
    assert check(GOOD_UPDATE, kind="update", locale="en", facts=IncidentFacts()) == []


def test_messages_are_in_english_for_english_text() -> None:
    (finding,) = [
        f for f in check("It is probably the network.", kind="report_notice", locale="en")
    ]
    assert finding.rule == "speculation"
    assert finding.message.startswith("“probably” is a guess")
    assert "still confirming" in finding.suggestion


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The outage was probably caused by a network fault.", "probably"),
        ("We think the issue is related to the latest release.", "We think"),
        ("Service should be back within the hour.", "should be back"),
        ("Our best guess is a configuration error.", "Our best guess"),
        ("The errors might be caused by high load.", "might be caused"),
    ],
)
def test_speculation(text: str, expected: str) -> None:
    assert spans(text, "speculation") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "This is not a guess: we confirmed the failures at 14:05.",
        "Rather than guess, we will tell you only what we have confirmed.",
        "The word “probably” does not belong in our notices.",
        'Avoid words like "likely" or "we think" in customer notices.',
        "It is unlikely that your data is affected, and we have checked every account.",
    ],
)
def test_speculation_negated_or_quoted_does_not_fire(text: str) -> None:
    assert spans(text, "speculation") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A database failure stopped the dashboard.", "database"),
        ("We rolled back the release.", "rolled back"),
        ("Some pages returned 502 errors.", "502 errors"),
        ("The DNS change has been reverted.", "DNS"),
        ("Our SSL certificate expired.", "SSL certificate"),
    ],
)
def test_jargon(text: str, expected: str) -> None:
    assert spans(text, "jargon") == [expected]


def test_jargon_explained_in_brackets_does_not_fire() -> None:
    assert spans("The DNS (the internet's address book) entry was wrong.", "jargon") == []
    assert spans("Our rapid response team is on it.", "jargon") == []  # API inside RAPID


def test_missing_apology_and_next_update() -> None:
    text = "Since 14:05 JST some customers cannot sign in. We will update you soon."
    found = {f.rule for f in check(text, kind="first_notice", locale="en")}
    assert {"missing-apology", "missing-next-update", "vague-deadline"} <= found
    assert spans(text, "vague-deadline") == ["soon"]


@pytest.mark.parametrize(
    "line",
    [
        "We will post the next update by 15:30.",
        "We will update you again at 4 pm.",
        "We will send an update within 30 minutes.",
        "Next update by {{ next_update_at }}.",
    ],
)
def test_next_update_times(line: str) -> None:
    text = "We are sorry for the disruption. " + line
    assert spans(text, "missing-next-update", kind="update") == []


def test_start_time_is_not_a_next_update() -> None:
    text = "We are sorry. We are writing to update you on the outage since 14:05."
    assert len(spans(text, "missing-next-update", kind="update")) == 1


def test_excuse_and_vague_responsibility() -> None:
    text = "This was not our fault; the outage was beyond our control."
    assert spans(text, "excuse") == ["not our fault", "beyond our control"]
    assert spans("Due to a technical issue, sign-in failed.", "vague-responsibility") == [
        "a technical issue"
    ]
    concrete = (
        "Due to a technical issue, sign-in failed. "
        "Specifically, a configuration file was published with a typo."
    )
    assert spans(concrete, "vague-responsibility") == []


def test_unconfirmed_as_fact() -> None:
    text = "Service will be restored by 16:00. The root cause was a faulty switch."
    assert spans(text, "unconfirmed-as-fact", facts=IncidentFacts()) == [
        "will be restored",
        "The root cause was",
    ]
    both = IncidentFacts(recovery_confirmed=True, cause_confirmed=True)
    assert spans(text, "unconfirmed-as-fact", facts=both) == []
    hedged = "We currently estimate service will be restored by 16:00, but this is not confirmed."
    assert spans(hedged, "unconfirmed-as-fact", facts=IncidentFacts()) == []


def test_a_condition_about_recovery_is_not_a_claim_of_it() -> None:
    for text in (
        "Until the service is restored, you can use the workaround above.",
        "Once sign-in is restored, we will email you.",
        "As soon as payments are back to normal, we will let you know.",
    ):
        assert spans(text, "unconfirmed-as-fact", facts=IncidentFacts()) == [], text
    claim = "Sign-in is restored. Until then, please use the app."
    assert spans(claim, "unconfirmed-as-fact", facts=IncidentFacts()) == ["is restored"]


def test_avoid_expressions_in_english() -> None:
    text = "We apologize for any inconvenience. Please be patient."
    assert spans(text, "avoid-expression") == [
        "We apologize for any inconvenience",
        "Please be patient",
    ]
    pairs = [("working on it", "restoring sign-in for the affected accounts")]
    assert spans("We are working on it.", "avoid-expression", avoid_expressions=pairs) == [
        "working on it"
    ]


def test_english_long_sentence_limit_is_wider() -> None:
    sentence = "We are sorry that " + "the dashboard and the mobile app " * 4 + "were slow."
    assert 100 < len(sentence) < 200
    assert spans(sentence, "long-sentence") == []
    assert spans(sentence + " " + sentence, "long-sentence") == []  # two sentences
    long = "We are sorry that " + "the dashboard and the mobile app " * 9 + "were slow."
    assert len(spans(long, "long-sentence")) == 1

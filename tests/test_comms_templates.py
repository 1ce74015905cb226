"""Message templates, pure: the shipped set renders in both languages, passes the message check,
and the sandbox refuses what a template must not do (R3, R6, R11-R16)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from anshin.comms import rules, service
from anshin.comms.formatting import format_duration
from anshin.comms.lint import check, has_errors
from anshin.comms.variables import allowed_names
from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.incidents import preview, samples
from anshin.incidents.context import incident_context
from anshin.incidents.context_kinds import build_context
from anshin.incidents.models import Component, Incident, IncidentComponent

NOW = dt.datetime(2026, 11, 22, 5, 0, tzinfo=dt.UTC)  # 14:00 in Tokyo
SETTINGS = Settings(
    database_url="sqlite://", site_name="あんしんクラウド", base_url="https://status.example.jp"
)


def _incident(**overrides: object) -> Incident:
    """An open sev2 incident on two components, as an agent would have recorded it."""
    values: dict[str, object] = {
        "reference": "INC-2026-0007",
        "title": "ログインできない障害",
        "title_en": "Sign-in failures",
        "summary": "一部のお客様がログインできません。",
        "severity": "sev2",
        "status": "investigating",
        "started_at": NOW - dt.timedelta(minutes=40),
        "detected_at": NOW - dt.timedelta(minutes=30),
        "declared_at": NOW - dt.timedelta(minutes=25),
        "estimated_affected_customers": None,
        "estimated_recovery_at": None,
        "recovery_confirmed": False,
        "cause": None,
        "cause_confirmed": False,
        "workaround": None,
        "workaround_en": None,
        "created_by": "test",
    }
    values.update(overrides)
    incident = Incident(**values)
    incident.components = [
        IncidentComponent(
            component=Component(name="ログイン", name_en="Sign-in"), impact="major_outage"
        ),
        IncidentComponent(
            component=Component(name="管理画面", name_en="Admin console"), impact="partial_outage"
        ),
    ]
    return incident


KEYS = rules.all_keys()


def test_the_default_set_is_complete() -> None:
    # 50, the reopened notice (3 channels x 2 locales), and the harassment path's warning
    # and ending of the contact (script and email x 2 locales each, R25)
    assert len(KEYS) == 64
    for kind, locale, channel in KEYS:
        assert service.default_path(kind, locale, channel).is_file(), (kind, locale, channel)
    # every kind exists in both languages on the same channels
    for kind in rules.KINDS:
        ja = {c for k, lo, c in KEYS if k == kind and lo == "ja"}
        en = {c for k, lo, c in KEYS if k == kind and lo == "en"}
        assert ja == en == set(rules.KIND_CHANNELS[kind])


@pytest.mark.parametrize(("kind", "locale", "channel"), KEYS)
def test_every_default_renders_and_passes_the_message_check(
    kind: str, locale: str, channel: str
) -> None:
    """R11-R16: the shipped wording renders on both sample incidents with no error finding."""
    default = service.load_default(kind, locale, channel)
    rules.validate(default.source, kind=kind, channel=channel, allowed=allowed_names(kind))
    for confirmed in (False, True):
        incident = (
            None
            if kind == "maintenance_notice"
            else samples.sample_incident(NOW, confirmed=confirmed, kind=kind)
        )
        if kind in rules.INQUIRY_KINDS and not confirmed:
            incident = None
        values = build_context(
            SETTINGS,
            kind,
            locale,
            NOW,
            incident=incident,
            maintenance=samples.sample_maintenance(NOW),
            options=samples.sample_options(kind, locale),
        )
        rendered = rules.render(default.source, values, kind=kind, locale=locale, channel=channel)
        assert rendered.text and "{{" not in rendered.text and "{%" not in rendered.text
        if channel == "email":
            assert rendered.subject and "\n" not in rendered.subject
            # A fragment: the mail wraps it in its one document (issue 7).
            assert rendered.html and rendered.html.startswith("<p>")
            assert "<html" not in rendered.html and "<body" not in rendered.html
        else:
            assert rendered.subject is None and rendered.html is None
        if channel == "short":
            assert rendered.limit == {"ja": 140, "en": 280}[locale]
            assert len(rendered.text) == rendered.length <= rendered.limit, rendered.text
        findings = check(
            rendered.text, kind=kind, locale=locale, facts=preview.lint_facts(incident, kind)
        )
        errors = [
            (f.rule, rendered.text[f.start : f.end]) for f in findings if f.severity == "error"
        ]
        assert not has_errors(findings), errors
        # the checker finds no warning either: no jargon, excuse, vague deadline or guess
        assert not [f for f in findings if f.severity == "warning"], findings


def _render(
    kind: str, locale: str, channel: str, incident: Incident, **options: object
) -> rules.Rendered:
    source = service.load_default(kind, locale, channel).source
    values = incident_context(SETTINGS, incident, locale, NOW, **options)  # type: ignore
    return rules.render(source, values, kind=kind, locale=locale, channel=channel)


def test_unconfirmed_facts_are_said_as_being_confirmed() -> None:
    """R3: no recovery time, number or cause yet → 現在確認中 / being confirmed, never a guess."""
    incident = _incident(cause="設定の誤りの疑い", cause_confirmed=False)
    ja = _render("first_notice", "ja", "status_page", incident).text
    assert "■ 復旧の見込み：現在確認中" in ja
    # The estimated number is published only when the lead chooses to (issue 7).
    assert "お客様の数" not in ja
    assert "設定の誤り" not in ja  # an unconfirmed cause never reaches customers
    assert "確認できていない点は現在確認中です" not in ja  # no tautology
    # R5: sev2 → next update 60 minutes from now, in the team's zone (14:00 JST + 1 h)
    assert "次回は11月22日 15:00までに" in ja
    en = _render("first_notice", "en", "status_page", incident).text
    assert "- Expected recovery: being confirmed" in en
    assert "Customers affected" not in en
    assert "by 22 November, 15:00 JST." in en
    assert "Sign-in and Admin console" in en  # localized component names


def test_an_unconfirmed_estimate_is_only_given_as_an_estimate() -> None:
    """R3: an estimate that is not confirmed comes with 見込み and 確認中 — never as a fact."""
    at = NOW + dt.timedelta(hours=2)  # 16:00 JST
    unconfirmed = _incident(estimated_recovery_at=at, recovery_confirmed=False)
    ja = _render("update", "ja", "status_page", unconfirmed).text
    line = next(x for x in ja.splitlines() if x.startswith("■ 復旧の見込み"))
    assert "16:00" in line and "見込み" in line.split("：", 1)[1] and "確認中" in line
    en = _render("update", "en", "email", unconfirmed).text
    assert "22 November, around 16:00 JST (an estimate still being confirmed; it may change)" in en
    short = _render("update", "ja", "short", unconfirmed).text
    assert "16:00頃（見込み・確認中）" in short
    confirmed = _incident(estimated_recovery_at=at, recovery_confirmed=True)
    ja = _render("update", "ja", "status_page", confirmed).text
    assert "■ 復旧の見込み：11月22日 16:00\n" in ja
    assert "確認中" not in ja.split("■ 復旧の見込み：", 1)[1].splitlines()[0]


def test_confirmed_facts_and_workaround_are_given() -> None:
    """R6: the workaround when known; R3: the cause once confirmed; the estimate as a number."""
    incident = _incident(
        estimated_affected_customers=1234,
        cause="認証サービスの設定変更の誤り",
        cause_confirmed=True,
        workaround="スマートフォンアプリからはログインいただけます。",
        workaround_en="You can still sign in from the smartphone app.",
        status="identified",
    )
    ja = _render("update", "ja", "email", incident, publish_affected=True)
    assert "■ 原因：認証サービスの設定変更の誤り" in ja.text
    assert "■ 回避策：スマートフォンアプリからはログインいただけます。" in ja.text
    assert "約1,234名" in ja.text
    assert "原因を特定し、復旧作業中" in ja.text
    assert ja.subject == "【第1報】ログインできない障害（11月22日 14:00）"
    assert "約1,234名" not in _render("update", "ja", "email", incident).text
    en = _render("update", "en", "email", incident, publish_affected=True)
    assert "- Workaround: You can still sign in from the smartphone app." in en.text
    assert "about 1,234" in en.text
    assert en.subject == "First notice: Sign-in failures (22 Nov 14:00)"
    second = _render("update", "en", "email", incident, notice_number=2).subject
    assert second == "Update 2: Sign-in failures (22 Nov 14:00)"


def test_resolution_promises_a_dated_report() -> None:
    """R7: recovered; what was affected, for how long; a dated report on cause and prevention."""
    incident = _incident(status="resolved", resolved_at=NOW)
    ja = _render("resolution", "ja", "status_page", incident).text
    assert "11月22日 14:00に復旧いたしました" in ja
    assert "（約40分）" in ja
    assert "報告書を、2026年11月29日（日）までに公開" in ja
    assert "お詫び申し上げます" in ja
    en = _render("resolution", "en", "email", incident).text
    assert "(about 40 minutes)" in en and "by Sunday, November 29, 2026" in en


def test_key_client_followup_names_the_client_and_the_plan() -> None:
    """R9: the next-day contact: apology as a company, the support plan, the report date."""
    incident = _incident(status="resolved", resolved_at=NOW)
    ja = _render(
        "key_client_followup",
        "ja",
        "email",
        incident,
        customer_name="株式会社サンプル商事",
        support_plan="・専任担当者が、明日10:00にお電話いたします。",
    )
    assert ja.text.startswith("株式会社サンプル商事\nご担当者様")
    assert "会社として深くお詫び申し上げます" in ja.text
    assert "・専任担当者が、明日10:00にお電話いたします。" in ja.text
    assert "2026年11月29日（日）までにお届け" in ja.text


def test_inquiry_ack_without_an_incident_still_promises_a_time() -> None:
    """R18: react at once; R15: say by when."""
    source = service.load_default("inquiry_ack", "ja", "email").source
    values = build_context(
        SETTINGS,
        "inquiry_ack",
        "ja",
        NOW,
        options={"customer_name": "二次対応シニア", "inquiry_reference": "INQ-0042"},
    )
    rendered = rules.render(source, values, kind="inquiry_ack", locale="ja", channel="email")
    assert rendered.text.startswith("二次対応シニア 様")
    assert "2026/11/22 16:00 (JST)までに担当者よりご回答いたします" in rendered.text
    assert rendered.subject == "【あんしんクラウド】お問い合わせを受け付けました（INQ-0042）"


def test_email_html_is_escaped_and_linked() -> None:
    """Facts are text: a title with markup cannot become markup in the HTML part."""
    incident = _incident(workaround='<script>alert("x")</script> アプリ & Web')
    rendered = _render("first_notice", "ja", "email", incident)
    assert rendered.html is not None
    assert '<script>alert("x")</script> アプリ & Web' in rendered.text
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; アプリ &amp; Web" in rendered.html
    assert '<a href="https://status.example.jp/">https://status.example.jp/</a>' in rendered.html
    html = rules.text_to_html("<b>太字</b>\n次の行\n\n段落 https://x.example/?a=1&b=2")
    assert "&lt;b&gt;太字&lt;/b&gt;<br>" in html
    assert '<a href="https://x.example/?a=1&amp;b=2">' in html
    assert html.count("<p>") == 2


def test_sandbox_blocks_internals_and_resource_abuse() -> None:
    values = {"title": "t", "components": ["a"]}
    for source in (
        "{{ title.__class__.__mro__ }}",
        "{{ components.__class__.__subclasses__() }}",
        "{{ components.append('x') }}",
        "{{ 'x' * 10000000 }}",
        "{{ 9 ** 999999 }}",
    ):
        with pytest.raises(InvalidInput) as caught:
            rules.render_text(source, values)
        assert caught.value.msgid.startswith("The template tried something templates may not do")


def test_unknown_variable_and_syntax_errors_are_clear() -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.render_text("こんにちは\n{{ customer_nmae }} 様", {"customer_name": "x"})
    assert caught.value.params["name"] == "customer_nmae"
    assert "customer_name" in caught.value.params["choices"]
    with pytest.raises(InvalidInput) as caught:
        rules.render_text("一行目\n二行目\n{% if workaround %}回避策", {"workaround": ""})
    assert caught.value.msgid.startswith("The template has a syntax error on line")
    assert caught.value.params["line"] == 3
    # the static check finds a misspelt name even inside a branch today's facts skip
    source = rules.Source(subject=None, body="{% if workaround %}{{ workaroud }}{% endif %}")
    with pytest.raises(InvalidInput) as caught:
        rules.validate(
            source, kind="update", channel="status_page", allowed=allowed_names("update")
        )
    assert caught.value.params["name"] == "workaroud"


def test_file_format_round_trip_and_subject_rules() -> None:
    source = rules.parse_file("件名: 【障害】{{ title }}\n\n本文です。\n", "email")
    assert source == rules.Source(subject="【障害】{{ title }}", body="本文です。")
    assert rules.parse_file(rules.format_file(source, "en"), "email") == source
    with pytest.raises(InvalidInput):
        rules.parse_file("本文だけ", "email")
    with pytest.raises(InvalidInput):
        rules.validate(
            rules.Source(subject=None, body="x"),
            kind="update",
            channel="email",
            allowed=frozenset(),
        )
    with pytest.raises(InvalidInput):
        rules.validate(
            rules.Source(subject="s", body="x"), kind="update", channel="short", allowed=frozenset()
        )


def test_suggest_kind_follows_the_incident_state() -> None:
    """R4/R5/R7: first notice before any public message, then updates, resolution when resolving."""
    assert rules.suggest_kind(status="investigating", has_public_update=False) == "first_notice"
    assert rules.suggest_kind(status="identified", has_public_update=True) == "update"
    assert (
        rules.suggest_kind(status="monitoring", has_public_update=True, resolving=True)
        == "resolution"
    )
    assert rules.suggest_kind(status="resolved", has_public_update=True) == "resolution"


def test_durations_read_naturally() -> None:
    assert format_duration(dt.timedelta(minutes=40), "ja") == "約40分"
    assert format_duration(dt.timedelta(hours=8, minutes=5), "ja") == "約8時間5分"
    assert format_duration(dt.timedelta(days=1, hours=2), "ja") == "約1日2時間"
    assert format_duration(dt.timedelta(hours=1), "en") == "about 1 hour"
    assert format_duration(dt.timedelta(hours=2, minutes=1), "en") == "about 2 hours 1 minute"


def test_unknown_key_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.check_key("apology", "ja", "email")
    assert "first_notice" in caught.value.params["choices"]
    with pytest.raises(InvalidInput):
        rules.check_key("first_notice", "fr", "email")
    with pytest.raises(InvalidInput) as caught:
        rules.check_key("inquiry_ack", "ja", "status_page")
    assert caught.value.params["choices"] == "email, short"


def test_docs_describe_every_variable_and_kind() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "templates.md").read_text("utf-8")
    for kind in rules.KINDS:
        assert f"`{kind}`" in docs, kind
        for name in allowed_names(kind):
            assert f"`{name}`" in docs, name


# Sentences that say nothing a customer can use (issue 7: prefilled texts a person would write).
TAUTOLOGIES = (
    "確認できていない点は現在確認中",
    "原因：原因の",
    "Anything we have not confirmed yet is still being checked",
)


def test_no_shipped_template_says_nothing_in_many_words() -> None:
    texts = {str(p): p.read_text(encoding="utf-8") for p in service.DEFAULTS_DIR.rglob("*.txt")}
    assert len(texts) > 50
    said = {(name, t) for name, text in texts.items() for t in TAUTOLOGIES if t in text}
    assert said == set()

"""Pure delivery rules: address checks, retry policy, signatures, payloads, tokens."""

from __future__ import annotations

import json

import pytest

from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.notify import rules, tokens, webhook, wire


@pytest.mark.parametrize(
    "value",
    ["taro@example.com", " Taro.Yamada+status@Example.CO.JP ", "a@b.io"],
)
def test_valid_addresses_are_normalised(value: str) -> None:
    assert rules.normalise_email(value) == value.strip().lower()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "taro",
        "taro@",
        "@example.com",
        "taro@example",
        "ta ro@example.com",
        "taro@@example.com",
        "taro..x@example.com",
        "担当@example.com",
        "a@-example.com",
        "x" * 250 + "@example.com",
    ],
)
def test_invalid_addresses_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput) as info:
        rules.normalise_email(value)
    assert info.value.field == "email"


def test_locale_format_status_checks() -> None:
    assert rules.check_locale("EN") == "en"
    assert rules.check_locale(None) == "ja"
    with pytest.raises(InvalidInput):
        rules.check_locale("fr")
    assert rules.check_webhook_format("Slack") == "slack"
    with pytest.raises(InvalidInput):
        rules.check_webhook_format("teams")
    assert rules.check_subscriber_status("") == "active"
    with pytest.raises(InvalidInput):
        rules.check_subscriber_status("maybe")
    assert rules.check_webhook_url(" https://hooks.example.com/x ") == "https://hooks.example.com/x"
    for bad in ("ftp://example.com", "example.com/hook", "https://", "javascript:alert(1)"):
        with pytest.raises(InvalidInput):
            rules.check_webhook_url(bad)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    top = lambda low, high: high  # noqa: E731 - the largest draw
    ceilings = [rules.backoff_seconds(n, base=30, maximum=3600, rand=top) for n in range(1, 10)]
    assert ceilings[:5] == [30, 60, 120, 240, 480]
    assert max(ceilings) == 3600
    draws = {rules.backoff_seconds(4, base=30, maximum=3600) for _ in range(200)}
    assert all(0 <= d <= 240 for d in draws)
    assert len(draws) > 150  # full jitter: spread over the whole window
    assert rules.backoff_seconds(3, base=0, maximum=10) == 0


def test_transient_and_permanent_failures() -> None:
    assert rules.smtp_is_transient(451) and rules.smtp_is_transient(421)
    assert rules.smtp_is_transient(None)  # connection trouble
    assert not rules.smtp_is_transient(550) and not rules.smtp_is_transient(554)
    for status in (None, 408, 429, 500, 502, 503, 504):
        assert rules.http_is_transient(status)
    for status in (400, 401, 403, 404, 410, 422):
        assert not rules.http_is_transient(status)
    assert rules.after_failure(1, 6, transient=True) == "failed"
    assert rules.after_failure(6, 6, transient=True) == "dead"
    assert rules.after_failure(1, 6, transient=False) == "dead"


def test_signature_round_trip_and_tamper() -> None:
    body = json.dumps({"text": "障害のお知らせ"}, ensure_ascii=False).encode()
    signature = wire.sign("s3cret-s3cret-s3cret", 1700000000, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert wire.verify("s3cret-s3cret-s3cret", 1700000000, body, signature)
    assert not wire.verify("s3cret-s3cret-s3cret", 1700000001, body, signature)
    assert not wire.verify("other-secret-xxxxxx", 1700000000, body, signature)
    assert not wire.verify("s3cret-s3cret-s3cret", 1700000000, body + b" ", signature)


def test_identity_is_the_delivery_id() -> None:
    assert wire.message_id(42, "status.example.com") == "<anshin.delivery.42@status.example.com>"
    assert wire.idempotency_key(42) == "42"


TEXTS = {
    "ja": {
        "subject": "【障害】ログイン",
        "text": "ご迷惑をおかけしております。",
        "short": "ログイン障害",
    },
    "en": {"subject": "[Incident] Login", "text": "We are sorry.", "short": "Login incident"},
}


def test_payloads_in_both_formats() -> None:
    anshin = json.loads(
        webhook.body_for(
            fmt="anshin",
            delivery_id=7,
            message_id=3,
            kind="first_notice",
            locale="en",
            created_at="2026-11-22T05:00:00+00:00",
            texts=TEXTS,
            component_ids=[1, 2],
            data={"incident": "INC-2026-0001"},
        )
    )
    assert anshin["delivery_id"] == 7 and anshin["subject"] == "[Incident] Login"
    assert anshin["texts"]["ja"]["subject"] == "【障害】ログイン"
    assert anshin["data"] == {"incident": "INC-2026-0001"}
    slack = json.loads(
        webhook.body_for(
            fmt="slack",
            delivery_id=7,
            message_id=3,
            kind="first_notice",
            locale="ja",
            created_at="",
            texts=TEXTS,
            component_ids=[],
            data={"url": "https://status.example.com/incidents/1"},
        )
    )
    assert set(slack) == {"text", "blocks"}
    assert slack["text"].startswith("【障害】ログイン")
    assert slack["blocks"][0]["type"] == "header"
    assert any(b["type"] == "context" for b in slack["blocks"])
    assert wire.pick_texts({"ja": TEXTS["ja"]}, "en") == TEXTS["ja"]  # falls back to Japanese


def test_text_to_html_escapes() -> None:
    assert rules.text_to_html("a <b>\nc\n\nd") == "<p>a &lt;b&gt;<br>\nc</p>\n<p>d</p>"


def test_tokens_refuse_tampering_and_other_keys() -> None:
    settings = Settings(secret_key="k" * 40)
    token = tokens.unsubscribe_token(settings, 5, "a@example.com")
    assert tokens.read_unsubscribe_token(settings, token) == (5, wire.address_tag("a@example.com"))
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (tampered, token + "x", "garbage", ""):
        with pytest.raises(tokens.BadToken):
            tokens.read_unsubscribe_token(settings, bad)
    with pytest.raises(tokens.BadToken):
        tokens.read_unsubscribe_token(Settings(secret_key="other" * 10), token)
    confirm = tokens.confirm_token(settings, 5, "a@example.com")
    with pytest.raises(tokens.BadToken):  # a confirm token is not an unsubscribe token
        tokens.read_unsubscribe_token(settings, confirm)
    assert tokens.read_confirm_token(settings, confirm)[0] == 5
    with pytest.raises(tokens.BadToken):
        tokens.read_confirm_token(settings, confirm, max_age=-1)

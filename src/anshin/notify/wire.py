"""What a delivery looks like on the wire: its identity, its signature, its payloads (R4, R21, R26).

Pure, split from ``notify.rules`` (which validates and decides retries): the
``Message-ID`` and ``Idempotency-Key`` that stay the same on every resend so
receivers dedupe, the mail's threading headers, the webhook's HMAC signature,
the address tag in unsubscribe tokens, and the JSON a webhook receives.
Unit-tested alone.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import Any

# --- identity and signatures ------------------------------------------------


def message_id(delivery_id: int, domain: str) -> str:
    """The SMTP Message-ID of a delivery: the same on every (re)send, so copies dedupe."""
    return f"<anshin.delivery.{delivery_id}@{domain}>"


# A Message-ID as mail carries it: ``<left@right>``, printable ASCII, no spaces or brackets inside.
_MESSAGE_ID = re.compile(r"^<[!-;=?-~]{1,250}@[!-;=?-~]{1,250}>$")
THREAD_REFERENCES_MAX = 20


def thread_headers(data: Mapping[str, Any]) -> str:
    """``In-Reply-To`` and ``References`` lines for a reply to a customer's mail (R21).

    The message's ``data`` names the Message-ID it answers (``in_reply_to``)
    and the thread so far (``references``); anything that is not a plain
    Message-ID is left out, so no header can be injected through a customer's
    mail. Empty when the message answers nothing.
    """
    answer = str(data.get("in_reply_to") or "")
    if not _MESSAGE_ID.match(answer):
        return ""
    chain = [str(r) for r in data.get("references") or () if _MESSAGE_ID.match(str(r))]
    if answer not in chain:
        chain.append(answer)
    chain = chain[-THREAD_REFERENCES_MAX:]
    return f"In-Reply-To: {answer}\r\nReferences: " + "\r\n ".join(chain) + "\r\n"


def idempotency_key(delivery_id: int) -> str:
    """The webhook ``Idempotency-Key``: the delivery id, the same on every (re)send."""
    return str(delivery_id)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>.<body>").

    Signing the timestamp with the body lets a receiver refuse replays of an
    old request as well as forgeries.
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """Constant-time check of a signature made by :func:`sign` (for receivers and tests)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def address_tag(address: str) -> str:
    """A short digest of an address, bound into tokens so a reused id cannot be unsubscribed."""
    return hashlib.sha256(address.encode()).hexdigest()[:12]


# --- rendering helpers ------------------------------------------------------


def pick_texts(texts: Mapping[str, Mapping[str, Any]], locale: str) -> Mapping[str, Any]:
    """The texts of a locale, falling back to Japanese (the language always written)."""
    return texts.get(locale) or texts.get("ja") or next(iter(texts.values()))


def anshin_payload(
    *,
    delivery_id: int,
    message_id: int,
    kind: str,
    locale: str,
    created_at: str,
    texts: Mapping[str, Mapping[str, Any]],
    component_ids: Sequence[int],
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON body of an ``anshin`` webhook: the chosen locale up front, every locale below."""
    chosen = pick_texts(texts, locale)
    return {
        "delivery_id": delivery_id,
        "message_id": message_id,
        "kind": kind,
        "locale": locale,
        "created_at": created_at,
        "subject": chosen.get("subject", ""),
        "text": chosen.get("text", ""),
        "short_text": chosen.get("short") or chosen.get("subject", ""),
        "component_ids": list(component_ids),
        "data": dict(data),
        "texts": {loc: dict(t) for loc, t in texts.items()},
    }


def slack_escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as Slack's entities, so a text is shown, never obeyed.

    Slack reads ``<!channel>`` as a mention of everyone and ``<https://x|label>``
    as a link whose target the reader does not see; in an incident text both
    would be an injection. Only these three characters are special to Slack.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(texts: Mapping[str, Mapping[str, Any]], locale: str, url: str | None) -> dict:
    """A Slack incoming-webhook body: ``text`` (notifications) and ``blocks`` (the message).

    Every text field is escaped (:func:`slack_escape`); the only markup is the
    link to the incident, which anshin writes itself. Teams reads ``text``.
    """
    chosen = pick_texts(texts, locale)
    subject = str(chosen.get("subject", ""))
    body = str(chosen.get("short") or chosen.get("text", ""))
    if len(body) > 2900:  # Slack's section text limit is 3000 characters
        body = body[:2899] + "…"
    header = subject[:150] or "-"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": slack_escape(header)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(body or subject)}},
    ]
    if url:
        link = f"<{slack_escape(url)}>"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link}]})
    return {"text": slack_escape(f"{subject}\n{body}".strip()), "blocks": blocks}

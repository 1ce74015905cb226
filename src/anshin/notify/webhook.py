"""Webhooks: POST a signed JSON body to each webhook subscriber (R26).

Headers on every request:

- ``X-Anshin-Timestamp``: Unix seconds when the request was signed;
- ``X-Anshin-Signature: sha256=<hex>``: HMAC-SHA256 with the subscriber's
  secret over ``"<timestamp>." + body`` (see :func:`anshin.notify.rules.sign`);
- ``Idempotency-Key``: the delivery id, identical on every retry, so a
  receiver can drop a copy it has already processed;
- ``X-Anshin-Delivery`` and ``X-Anshin-Event`` (the message kind).

``anshin`` format is anshin's own JSON; ``slack`` is the body a Slack incoming
webhook expects (``text`` + ``blocks``). A 2xx answer is success; timeouts,
connection errors, 408/425/429 and 5xx are retried; other answers are final.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from anshin import __version__
from anshin.notify import rules
from anshin.notify.smtp import Outcome

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def body_for(
    *,
    fmt: str,
    delivery_id: int,
    message_id: int,
    kind: str,
    locale: str,
    created_at: str,
    texts: Mapping[str, Mapping[str, Any]],
    component_ids: list[int],
    data: Mapping[str, Any],
) -> bytes:
    """The request body of one delivery in the subscriber's format."""
    if fmt == "slack":
        url = data.get("url")
        payload: dict[str, Any] = rules.slack_payload(texts, locale, str(url) if url else None)
    else:
        payload = rules.anshin_payload(
            delivery_id=delivery_id,
            message_id=message_id,
            kind=kind,
            locale=locale,
            created_at=created_at,
            texts=texts,
            component_ids=component_ids,
            data=data,
        )
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookSender:
    """One HTTP client (connection pool) reused for every webhook a worker sends in a run."""

    def __init__(self) -> None:
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=TIMEOUT,
                follow_redirects=False,
                headers={"User-Agent": f"anshin/{__version__}"},
            )
        return self._client

    def send(self, *, url: str, secret: str, body: bytes, delivery_id: int, kind: str) -> Outcome:
        """POST one signed body; ``ok`` only on a 2xx answer."""
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Anshin-Timestamp": str(timestamp),
            "X-Anshin-Signature": rules.sign(secret, timestamp, body),
            "Idempotency-Key": rules.idempotency_key(delivery_id),
            "X-Anshin-Delivery": str(delivery_id),
            "X-Anshin-Event": kind,
        }
        try:
            response = self._http().post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return Outcome.failed(f"timeout: {type(exc).__name__}", transient=True)
        except httpx.HTTPError as exc:
            return Outcome.failed(f"HTTP request failed: {exc}", transient=True)
        if 200 <= response.status_code < 300:
            return Outcome.accepted()
        snippet = response.text[:200].replace("\n", " ")
        return Outcome.failed(
            f"HTTP {response.status_code} {snippet}",
            transient=rules.http_is_transient(response.status_code),
        )

    def close(self) -> None:
        """Close pooled connections."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

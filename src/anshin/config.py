"""Settings from ``ANSHIN_*`` environment variables (twelve-factor; docs/design.md "settings").

Every number a guide gives is a default here and stays configurable
(docs/requirements.md, introduction): the 15-minute first notice (R4) and the update
cadence per severity (R5).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from anshin.errors import InvalidInput
from anshin.notify.rules import IPNetwork, WebhookFormat, check_webhook_url, networks

# The key earlier versions signed with when none was set. Public, so never used any more:
# anshin.instance.secret generates a key per installation and refuses this one off loopback.
DEV_SECRET = "anshin-development-secret-change-me"


class Settings(BaseSettings):
    """All run-time configuration. Tests build their own instance instead of reading the env."""

    model_config = SettingsConfigDict(env_prefix="ANSHIN_", extra="ignore")

    database_url: str = "sqlite:///./anshin.db"
    # Signs session cookies, subscriber links and client-address digests. Empty: a random
    # key generated once and kept in the database (anshin.instance.secret).
    secret_key: str = ""
    timezone: str = "Asia/Tokyo"
    default_locale: str = "ja"
    site_name: str = "anshin"
    base_url: str = "http://127.0.0.1:8000"
    status_export_dir: Path | None = None
    queue_url: str | None = None
    # The session cookie is Secure on HTTPS requests anyway; True marks it Secure always
    # (a site served over HTTPS behind a proxy that does not say so).
    session_cookie_secure: bool = False
    # Console sessions (team.sessions, issue 7): ended after this long without a request,
    # and this long after sign-in whatever happens.
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    # Sign-in throttle (team.throttle): this many failed sign-ins within the window, per
    # account and per client address, and further attempts get a 429 until it passes.
    # 0 turns a limit off. The window is at most an hour (the rows share anshin.ratelimit's).
    login_failures_per_account: int = Field(default=5, ge=0)
    login_failures_per_address: int = Field(default=20, ge=0)
    login_failure_window_minutes: int = Field(default=15, ge=1, le=60)

    # R4: first notice within 15 minutes of declaring the incident.
    first_notice_minutes: int = Field(default=15, ge=1)
    # R5: important incidents every 30-60 min, normal ones every 2-3 h.
    cadence_sev1_minutes: int = Field(default=30, ge=1)
    cadence_sev2_minutes: int = Field(default=60, ge=1)
    cadence_sev3_minutes: int = Field(default=180, ge=1)
    # Status page: how far back the incident history reaches.
    history_days: int = Field(default=90, ge=1)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "anshin <status@example.invalid>"
    smtp_timeout_seconds: float = 10.0
    smtp_message_id_domain: str = "anshin.local"

    # Delivery through the outbox (docs/design.md "outbox"): retries with backoff and
    # jitter, claims that expire so a killed worker loses nothing.
    delivery_max_attempts: int = Field(default=6, ge=1)
    delivery_backoff_base_seconds: float = Field(default=30.0, ge=0)
    delivery_backoff_max_seconds: float = Field(default=3600.0, ge=0)
    delivery_batch_size: int = Field(default=200, ge=1)
    delivery_claim_seconds: int = Field(default=120, ge=1)
    sweep_after_seconds: int = Field(default=300, ge=1)
    # Webhooks (notify.webhook, docs/delivery.md): one attempt, from connect to the
    # last byte of the answer, ends failed after this long; this many webhook sends
    # run at once per process, at most one per endpoint, beside the mail.
    webhook_deadline_seconds: float = Field(default=15.0, gt=0, le=300)
    webhook_workers: int = Field(default=4, ge=1, le=64)
    # Networks a webhook may reach although they are not public (loopback, private,
    # link-local…): CIDRs an admin allows, e.g. ["10.20.0.0/16"]. Empty: public only.
    webhook_allowed_networks: list[str] = Field(default_factory=list)
    # Accepted requests of the public subscribe form per client address and hour
    # (each one mails a confirmation; notify.ratelimit). 0: no limit.
    subscribe_rate_per_hour: int = Field(default=20, ge=0)

    # Concurrency (README "Deployment at scale", anshin.web.middleware.RequestGate, anshin.db):
    # ``threads`` requests are let in at once, each running in one thread at a time
    # with one pooled connection; the others wait their turn up to
    # ``request_queue_timeout_seconds``, then get a 503 with Retry-After. The pool
    # keeps ``db_pool_size`` connections open and opens up to ``db_max_overflow``
    # more: keep their sum above ``threads`` (token bookkeeping, status page
    # publishing take some too). A checkout waits ``db_pool_timeout_seconds`` at
    # most (then 503, never a hang); SQLite waits ``db_busy_timeout_seconds`` for
    # its write lock.
    threads: int = Field(default=40, ge=1)
    request_queue_timeout_seconds: float = Field(default=30.0, gt=0)
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=45, ge=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    db_busy_timeout_seconds: float = Field(default=10.0, ge=0)

    # Staff nudges (incidents.nudges): tell the on-duty staff when the next message an
    # incident owes is due within this many minutes, and again once it is overdue (R4, R5).
    nudge_before_minutes: int = Field(default=5, ge=1, le=240)
    # A staff channel besides mail: a Slack- or Teams-compatible incoming webhook.
    # "slack" posts {"text": …, "blocks": …} (Teams reads the text); "anshin" posts
    # anshin's signed JSON. Unset: mail to on-duty staff only.
    staff_webhook_url: str | None = None
    staff_webhook_format: WebhookFormat = WebhookFormat.SLACK
    # Request bodies (anshin.web.limits): larger ones are refused with 413 before they
    # are read; the CSV subscriber import (POST /api/subscribers/import) has its own.
    # Inquiries (R18–R28): the policy file (due times, authority matrix; data/policy.toml
    # holds the defaults), the public inquiry form's hourly limit per client, and where
    # replies to chat inquiries go (a webhook your chat widget's backend receives).
    inquiry_policy_file: str | None = None
    inquiry_rate_per_hour: int = Field(default=10, ge=0)
    # The public FAQ's searches and the inquiry form's type-ahead (statuspage/faq.py), per
    # client and hour; a typing customer asks a few dozen times.
    faq_search_rate_per_hour: int = Field(default=600, ge=0)
    chat_webhook_url: str | None = None
    # Inbound mail (anshin mail-in, anshin inquiry import; docs/inquiries-mail.md): where the
    # SMTP listener binds (behind the site's MTA, loopback by default) and the largest
    # mail it accepts, in bytes of the whole message; a larger one is refused.
    mail_in_host: str = "127.0.0.1"
    mail_in_port: int = Field(default=2525, ge=0, le=65535)
    mail_max_bytes: int = Field(default=2**20, ge=1024)
    max_body_bytes: int = Field(default=2**20, ge=1024)
    max_import_bytes: int = Field(default=50 * 2**20, ge=1024)
    # Console: warn before a no-news update follows a real update this recent (R5).
    no_news_warn_minutes: int = Field(default=10, ge=0, le=240)

    @field_validator("staff_webhook_url")
    @classmethod
    def _check_staff_webhook(cls, value: str | None) -> str | None:
        """A mistyped staff webhook stops the start instead of failing every nudge later."""
        if not (value or "").strip():
            return None
        try:
            return check_webhook_url(value)
        except InvalidInput:
            raise ValueError("must start with https:// or http://") from None

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        """A mistyped network stops the start instead of refusing webhooks later."""
        try:
            return [str(ipaddress.ip_network(v.strip(), strict=False)) for v in value]
        except ValueError as exc:
            raise ValueError(f"must be a list of CIDRs such as 10.0.0.0/8: {exc}") from None

    def webhook_networks(self) -> tuple[IPNetwork, ...]:
        """The allowed networks, parsed (see ``rules.address_allowed``)."""
        return networks(tuple(self.webhook_allowed_networks))

    def cadence_minutes(self) -> dict[str, int]:
        """Update interval per severity, the input of incidents.rules (R5)."""
        return {
            "sev1": self.cadence_sev1_minutes,
            "sev2": self.cadence_sev2_minutes,
            "sev3": self.cadence_sev3_minutes,
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings read from the environment once."""
    return Settings()

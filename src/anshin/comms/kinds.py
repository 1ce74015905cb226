"""The kinds of message anshin writes to customers — the one list every domain uses.

A kind decides which template is used (R11), which parts the message check asks
for (an apology R12, the next update R3/R5, empathy R13) and where the message
goes. Kept apart from ``comms.rules`` so the pure message check
(``comms.lint``) can name kinds without loading the template engine.
"""

from __future__ import annotations

from enum import StrEnum


class MessageKind(StrEnum):
    """Every customer message, in the order of an incident's life."""

    FIRST_NOTICE = "first_notice"
    UPDATE = "update"
    NO_NEWS_UPDATE = "no_news_update"
    RESOLUTION = "resolution"
    # A resolved incident that came back (the page and subscribers hear it again).
    REOPENED = "reopened"
    REPORT_NOTICE = "report_notice"
    MAINTENANCE_NOTICE = "maintenance_notice"
    INQUIRY_ACK = "inquiry_ack"
    INQUIRY_REPLY = "inquiry_reply"
    KEY_CLIENT_FOLLOWUP = "key_client_followup"
    PHONE_SCRIPT = "phone_script"
    # R25, the harassment path: a supervisor's prepared words, read out or mailed.
    HARASSMENT_WARNING = "harassment_warning"
    CONTACT_ENDING = "contact_ending"


KINDS: tuple[str, ...] = tuple(MessageKind)

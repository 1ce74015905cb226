"""Message templates, pure: kinds, channels, the sandboxed renderer, the template file format.

R11  templates for every customer message, so answers are fast and uniform.
R2   the phone script is rendered from the same shared incident record.
R3   the context builders (``incidents.context``) give only confirmed facts; this
     module renders them in a sandbox so a template cannot reach anything else.

Nothing here touches the database or the file system: the service loads and
stores templates, this module decides whether one is valid and renders it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError, TemplateError

from anshin.comms import formatting, sandbox
from anshin.comms.kinds import KINDS as KINDS
from anshin.comms.kinds import MessageKind as MessageKind
from anshin.errors import InvalidInput
from anshin.i18n import N_, SUPPORTED_LOCALES

LOCALES = SUPPORTED_LOCALES
CHANNELS: tuple[str, ...] = ("status_page", "email", "short", "script")

# Where each kind of message goes. Announcements go everywhere customers look;
# replies and the next-day call (R9) go to one customer; the phone script (R2)
# is read aloud by an agent and never sent.
_BROADCAST = ("status_page", "email", "short")
_PERSONAL = ("email", "short")
KIND_CHANNELS: dict[str, tuple[str, ...]] = {
    "first_notice": _BROADCAST,
    "update": _BROADCAST,
    "no_news_update": _BROADCAST,
    "resolution": _BROADCAST,
    "reopened": _BROADCAST,
    "report_notice": _BROADCAST,
    "maintenance_notice": _BROADCAST,
    "inquiry_ack": _PERSONAL,
    "inquiry_reply": _PERSONAL,
    "key_client_followup": _PERSONAL,
    "phone_script": ("script",),
    # R25: read out on the phone by a supervisor, or sent as a letter by mail.
    "harassment_warning": ("script", "email"),
    "contact_ending": ("script", "email"),
}
# Kinds about an incident (their context is built from the incident record).
INCIDENT_KINDS = frozenset(
    {
        "first_notice",
        "update",
        "no_news_update",
        "resolution",
        "reopened",
        "report_notice",
        "key_client_followup",
        "phone_script",
    }
)
INQUIRY_KINDS = frozenset({"inquiry_ack", "inquiry_reply", "harassment_warning", "contact_ending"})
# Kinds written after the recovery: they state it as a fact (R7, R9).
AFTER_RECOVERY = frozenset({"resolution", "report_notice", "key_client_followup"})

# Chat and SMS: Japanese is measured in characters, English in characters too,
# at twice the room (the usual SMS / chat preview budget).
SHORT_LIMITS: dict[str, int] = {"ja": 140, "en": 280}
BODY_MAX = 20_000
SUBJECT_MAX = 300

SUBJECT_HEADERS: dict[str, str] = {"ja": "件名:", "en": "Subject:"}
_SUBJECT_LINE = re.compile(r"^\s*(subject|件名)\s*[:：]\s?(.*)$", re.IGNORECASE)
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")


@dataclass(frozen=True)
class Source:
    """One template's text: the email subject (email only) and the body."""

    subject: str | None
    body: str


@dataclass(frozen=True)
class Rendered:
    """A rendered message, ready for the compose box or a delivery.

    ``html`` is the email's HTML part, generated from the text so nothing the
    facts contain can become markup. ``limit`` is set for the short channel.
    """

    kind: str
    locale: str
    channel: str
    subject: str | None
    text: str
    html: str | None
    length: int
    limit: int | None

    @property
    def over_limit(self) -> bool:
        """True when a short text does not fit a chat message or an SMS."""
        return self.limit is not None and self.length > self.limit


def check_key(kind: str, locale: str, channel: str) -> None:
    """Refuse a kind, locale or channel we do not have, naming the valid ones."""
    if kind not in KINDS:
        raise InvalidInput(
            N_("Unknown template kind: {value}. Choose one of: {choices}."),
            field="kind",
            value=kind,
            choices=", ".join(KINDS),
        )
    if locale not in LOCALES:
        raise InvalidInput(
            N_("Unknown language: {value}. Choose one of: {choices}."),
            field="locale",
            value=locale,
            choices=", ".join(LOCALES),
        )
    if channel not in KIND_CHANNELS[kind]:
        raise InvalidInput(
            N_("The {kind} template has no {value} channel. Choose one of: {choices}."),
            field="channel",
            kind=kind,
            value=channel,
            choices=", ".join(KIND_CHANNELS[kind]),
        )


def all_keys() -> list[tuple[str, str, str]]:
    """Every (kind, locale, channel) the shipped default set covers."""
    return [
        (kind, locale, channel)
        for kind in KINDS
        for locale in LOCALES
        for channel in KIND_CHANNELS[kind]
    ]


_ENV = sandbox.environment()


def _syntax_error(error: TemplateSyntaxError, part: str) -> InvalidInput:
    return InvalidInput(
        N_("The template has a syntax error on line {line}: {reason}"),
        field=part,
        line=error.lineno,
        reason=error.message or str(error),
    )


def unknown_variables(source: str, allowed: frozenset[str], *, part: str = "body") -> list[str]:
    """Names the template reads that the context will not give (found in every branch).

    StrictUndefined only fails on a branch that runs; this static pass catches
    a misspelt variable inside an ``{% if %}`` that today's facts skip.
    """
    try:
        parsed = _ENV.parse(source)
    except TemplateSyntaxError as error:
        raise _syntax_error(error, part) from None
    names = meta.find_undeclared_variables(parsed)
    return sorted(n for n in names if n not in allowed and n not in _ENV.globals)


def validate(source: Source, *, kind: str, channel: str, allowed: frozenset[str]) -> None:
    """Refuse a template that cannot be saved: syntax, unknown variables, size, subject.

    Raises InvalidInput with the line number (syntax) or the variable's name.
    """
    if channel == "email" and not (source.subject or "").strip():
        raise InvalidInput(N_("An email template needs a subject."), field="subject")
    if channel != "email" and source.subject:
        raise InvalidInput(N_("Only email templates have a subject."), field="subject")
    if not source.body.strip():
        raise InvalidInput(N_("The template body is empty."), field="body")
    if len(source.body) > BODY_MAX:
        raise InvalidInput(
            N_("Too long: at most {limit} characters."), field="body", limit=BODY_MAX
        )
    if source.subject and len(source.subject) > SUBJECT_MAX:
        raise InvalidInput(
            N_("Too long: at most {limit} characters."), field="subject", limit=SUBJECT_MAX
        )
    for part, text in (("subject", source.subject), ("body", source.body)):
        if text is None:
            continue
        unknown = unknown_variables(text, allowed, part=part)
        if unknown:
            raise InvalidInput(
                N_("The template uses an unknown variable: {name}. Available: {choices}."),
                field=part,
                name=", ".join(unknown),
                choices=", ".join(sorted(allowed)),
            )


@lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    """A template string compiled once per process: compiling costs ten times rendering.

    Every message of a surge (inquiry acknowledgements by the hundred a minute)
    renders one of a few active texts; a compiled template holds no render
    state, so threads share it. A syntax error is raised again, never cached.
    """
    return _ENV.from_string(source)


def render_text(source: str, context: dict[str, Any], *, part: str = "body") -> str:
    """Render one template string in the sandbox; every failure is a clear InvalidInput.

    The render is bounded (comms.sandbox): at most ``MAX_OUTPUT`` characters,
    ``MAX_STEPS`` steps and ``MAX_SECONDS`` seconds, so a save or a preview of a
    runaway template answers at once with the reason instead of hanging.
    """
    try:
        template = _compiled(source)
        chunks: list[str] = []
        size = 0
        with sandbox.budget():
            for chunk in template.generate(context):
                size += len(chunk)
                if size > sandbox.MAX_OUTPUT:
                    raise SecurityError("the message would be longer than any message can be")
                chunks.append(chunk)
        raw = "".join(chunks)
    except TemplateSyntaxError as error:
        raise _syntax_error(error, part) from None
    except UndefinedError as error:
        found = _UNDEFINED_NAME.search(str(error))
        raise InvalidInput(
            N_("The template uses an unknown variable: {name}. Available: {choices}."),
            field=part,
            name=found.group(1) if found else str(error),
            choices=", ".join(sorted(context)),
        ) from None
    except sandbox.TooMuchWork:
        raise InvalidInput(
            N_(
                "The template does too much work to render: at most {steps} steps and "
                "{seconds} seconds. Look for loops inside loops, or loops over long texts."
            ),
            field=part,
            steps=f"{sandbox.MAX_STEPS:,}",
            seconds=f"{sandbox.MAX_SECONDS:g}",
        ) from None
    except SecurityError as error:
        raise InvalidInput(
            N_("The template tried something templates may not do: {reason}"),
            field=part,
            reason=str(error),
        ) from None
    except (
        TemplateError,
        ArithmeticError,
        TypeError,
        ValueError,
        LookupError,
        RuntimeError,
    ) as error:
        raise InvalidInput(
            N_("The template could not be rendered: {reason}"), field=part, reason=str(error)
        ) from None
    return tidy(raw)


def tidy(text: str) -> str:
    """No trailing spaces, at most one empty line in a row, no blank start or end.

    Optional blocks (``{% if workaround %}``) that are skipped leave no gaps.
    """
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()


def one_line(text: str) -> str:
    """An email subject is one line: newlines and runs of spaces become one space."""
    return re.sub(r"\s+", " ", text).strip()


def text_to_html(text: str) -> str:
    """The email's HTML part from its text: escaped paragraphs and links, never markup from data.

    A fragment: the mail wraps it in its one document (``notify.smtp``).
    """
    return formatting.text_to_html(text)


def render(
    source: Source, context: dict[str, Any], *, kind: str, locale: str, channel: str
) -> Rendered:
    """Render a template for one channel: subject and HTML for email, a length for short."""
    text = render_text(source.body, context)
    if not text:
        raise InvalidInput(N_("The template rendered an empty message."), field="body")
    subject = None
    if channel == "email":
        subject = one_line(render_text(source.subject or "", context, part="subject"))
    limit = SHORT_LIMITS[locale] if channel == "short" else None
    return Rendered(
        kind=kind,
        locale=locale,
        channel=channel,
        subject=subject,
        text=text,
        html=text_to_html(text) if channel == "email" else None,
        length=len(text),
        limit=limit,
    )


def parse_file(text: str, channel: str) -> Source:
    """Read the template file format: for email, a ``Subject:`` (or ``件名:``) line first.

    ::

        件名: 【障害のお知らせ】{{ title }}

        本文…
    """
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    if channel != "email":
        return Source(subject=None, body=text.strip("\n"))
    first, _, rest = text.lstrip("\n").partition("\n")
    found = _SUBJECT_LINE.match(first)
    if not found:
        raise InvalidInput(
            N_("An email template file starts with a line 'Subject: …' (or '件名: …')."),
            field="subject",
        )
    return Source(subject=found.group(2).strip(), body=rest.strip("\n"))


def format_file(source: Source, locale: str) -> str:
    """The file form of a template, as ``anshin template show`` prints it and edit reads it."""
    if source.subject is None:
        return source.body + "\n"
    return f"{SUBJECT_HEADERS.get(locale, 'Subject:')} {source.subject}\n\n{source.body}\n"


def suggest_kind(*, status: str, has_public_update: bool, resolving: bool = False) -> str:
    """Which template the compose box starts from (R4, R5, R7).

    No public message yet: the first notice. Resolving: the resolution notice.
    Otherwise an update (the one-click button uses ``no_news_update``).
    """
    if resolving or status == "resolved":
        return "resolution"
    if not has_public_update:
        return "first_notice"
    return "update"

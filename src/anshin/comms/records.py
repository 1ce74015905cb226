"""The records a template is tried on, supplied by the packages that own them.

comms sits below incidents (docs/design.md "Dependency direction"): it renders
and checks a context its caller builds, and knows no record. The template
editor still tries a text on sample facts and on a real record (R3, R11), so
the functions that build those contexts are named here, not imported, like
``notify.tasks.SWEEP_HOOKS`` and ``app.ROUTER_MODULES``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from anshin.comms import rules
from anshin.comms.lint import Finding, IncidentFacts
from anshin.config import Settings
from anshin.hooks import resolve

# ``sample_checks(settings, kind, locale, now)``: [(context, what it lets a text
# state as fact)], nothing confirmed then everything confirmed.
SAMPLE_CHECKS = "anshin.incidents.samples:sample_checks"
# ``preview(session, settings, kind, locale, channel, **options)``: the text
# rendered on a record or a sample, and its findings.
PREVIEW = "anshin.incidents.preview:preview"
# ``choices(session, kind)``: the records a kind can be previewed on, as
# (value, label) for the edit page.
CHOICES = "anshin.incidents.preview:choices"

SAMPLES: tuple[str, ...] = ("unconfirmed", "confirmed")


def sample_checks(
    settings: Settings, kind: str, locale: str, now: dt.datetime
) -> list[tuple[dict[str, Any], IncidentFacts]]:
    """Contexts to try a template on before it is saved, each with its facts (R3)."""
    found: Callable[..., list[tuple[dict[str, Any], IncidentFacts]]] = resolve(SAMPLE_CHECKS)
    return found(settings, kind, locale, now)


def preview(
    session: Session, settings: Settings, kind: str, locale: str, channel: str, **options: Any
) -> tuple[rules.Rendered, list[Finding]]:
    """Render a template (a draft or the active text) on a record or a sample, and check it."""
    found: Callable[..., tuple[rules.Rendered, list[Finding]]] = resolve(PREVIEW)
    return found(session, settings, kind, locale, channel, **options)


def choices(session: Session, kind: str) -> list[tuple[str, str]]:
    """The records to preview a kind on: recent incidents, or maintenance windows."""
    found: Callable[..., list[tuple[str, str]]] = resolve(CHOICES)
    return found(session, kind)

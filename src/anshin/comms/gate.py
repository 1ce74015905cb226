"""Templates are gated like notices: every operator starts from them (R3, R6, R11-R16).

A template is rendered on the sample facts (nothing confirmed, everything
confirmed) and each rendering runs the message check with what that sample
lets a text state as fact. A text with an error finding is not saved unless
the saver gives a reason (``comms.service.save`` keeps it in the event).
Pure apart from rendering: no I/O.
"""

from __future__ import annotations

import datetime as dt

from anshin.comms import records, rules
from anshin.comms.lint import Finding, check
from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.i18n import N_

OVERRIDE_REASON_MAX = 2000


class TemplateCheckFailed(InvalidInput):
    """The template, rendered on the sample facts, has error findings (HTTP 422).

    A template is the text every operator starts from, so it is gated like a
    notice (R3, R6, R11-R16): refused, unless the saver gives a reason, which
    the version's event keeps. ``findings`` lists each sample's findings.
    """

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(
            N_(
                "On the sample facts this template fails the message check. "
                "Fix the findings, or give a reason to save it anyway."
            ),
            field="body",
        )
        self.findings = list(findings)

    def details(self) -> dict[str, object]:
        """The findings as JSON, for the API's error body."""
        return {"findings": [finding.as_dict() for finding in self.findings]}


def sample_findings(
    settings: Settings,
    kind: str,
    locale: str,
    channel: str,
    source: rules.Source,
    now: dt.datetime,
) -> list[Finding]:
    """The message check on the template rendered with each sample's facts (R3, R12-R16).

    The same samples the save renders (nothing confirmed, everything
    confirmed), each checked with what that sample lets a text state as fact.
    """
    found: list[Finding] = []
    for values, facts in records.sample_checks(settings, kind, locale, now):
        rendered = rules.render(source, values, kind=kind, locale=locale, channel=channel)
        found.extend(check(rendered.text, kind=kind, locale=locale, facts=facts))
    return found

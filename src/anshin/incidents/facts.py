"""What the message check may treat as confirmed, read off the incident record (R3).

Its own module so that publishing (incidents.notices), the template preview
(incidents.preview) and the template samples share it.
"""

from __future__ import annotations

from anshin.comms import rules
from anshin.comms.lint import IncidentFacts
from anshin.incidents.models import Incident

__all__ = ["lint_facts"]


def lint_facts(incident: Incident | None, kind: str) -> IncidentFacts:
    """What the message check may treat as confirmed (R3).

    A resolution (and what follows it) states the recovery as fact: resolving
    the incident is the confirmation.
    """
    if incident is None:
        return IncidentFacts()
    return IncidentFacts(
        recovery_confirmed=bool(
            incident.recovery_confirmed
            or incident.status == "resolved"
            or kind in rules.AFTER_RECOVERY
        ),
        cause_confirmed=bool(incident.cause_confirmed),
    )

"""The public status page hears every incident, component and maintenance change (R4).

``incidents`` sits below ``statuspage`` (docs/design.md "Dependency direction"):
the page reads incidents, so incidents must not import the page. The page's
publisher is named here, not imported, like ``notify.tasks.SWEEP_HOOKS`` and
``app.ROUTER_MODULES``, and every change calls :func:`republish` in its own
transaction, so the page and the record commit or roll back together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from anshin.config import Settings
from anshin.hooks import resolve

# ``function(session, settings, *, now=...)``: render and store the page in the
# caller's transaction. Named, not imported: statuspage sits above incidents.
PUBLISHERS: tuple[str, ...] = ("anshin.statuspage.service:publish",)


def republish(session: Session, settings: Settings, *, now: dt.datetime) -> None:
    """Publish the status page in the caller's transaction (R4: the page never lags a change).

    A publisher that fails fails the change with it: the record and the page
    must agree, so neither commits alone.
    """
    for name in PUBLISHERS:
        publisher: Callable[..., object] = resolve(name)
        publisher(session, settings, now=now)

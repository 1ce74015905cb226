"""Asking before what cannot be undone: resolving, and publishing a no-news update (R5, R7).

Both go to every subscriber at once and stay in the timeline for good, so the
console asks for a ticked confirmation box with the form itself: it works
without JavaScript (the server refuses an unticked form with 422 and keeps
every typed text) and needs no inline script. The console also warns, before
publishing, when a no-news update would follow a real update published a few
minutes ago (``ANSHIN_NO_NEWS_WARN_MINUTES``): it would tell customers nothing
new and push the real news down the page.
"""

from __future__ import annotations

import datetime as dt

from fastapi import Request

from anshin.config import Settings
from anshin.i18n import N_, translate
from anshin.incidents import rules
from anshin.incidents.models import Incident
from anshin.web.deps import request_locale
from anshin.web.views_helpers import FormData

FIELD = "confirm"
NO_NEWS_FIELD = "confirm_no_news"


def confirmed(form: FormData) -> bool:
    """True when the form's confirmation box was ticked."""
    return form.get(FIELD) == "yes"


def error(request: Request, field: str = FIELD) -> dict[str, str]:
    """The refusal of an unticked box, beside that box, in the reader's language."""
    text = translate(
        request_locale(request),
        N_("Tick the box to confirm. This goes to every subscriber and cannot be undone."),
    )
    return {field: text}


def no_news_warning(settings: Settings, incident: Incident, now: dt.datetime) -> int | None:
    """Minutes since a real update published within the warning window, else None."""
    return rules.recent_real_update_minutes(
        [(u.kind, u.audience, u.published_at) for u in incident.updates],
        now,
        settings.no_news_warn_minutes,
    )

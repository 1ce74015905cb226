"""The public HTML page in one locale, from a snapshot (no database access here)."""

from __future__ import annotations

from anshin.statuspage import rules
from anshin.statuspage.snapshot import PageSnapshot
from anshin.web.templating import render


def render_page(snapshot: PageSnapshot, locale: str) -> str:
    """index.html (ja) or en/index.html."""
    return render(
        "statuspage/index.html",
        {
            "locale": locale,
            "snap": snapshot,
            "zone": snapshot.settings.timezone,
            "site_name": snapshot.settings.site_name,
            "indicator_label": rules.INDICATOR_LABELS[snapshot.indicator],
            "component_labels": rules.COMPONENT_STATUS_LABELS,
            "status_labels": rules.INCIDENT_STATUS_LABELS,
            "impact_labels": rules.IMPACT_LABELS,
            "prefix": "" if locale == "ja" else "/en",
            "sep": rules.list_separator(locale),
        },
    )

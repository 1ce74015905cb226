"""Atom 1.0 and RSS 2.0 history feeds: one entry per public update and per maintenance.

Feed readers and chat integrations follow incidents without polling the page.
Built with ElementTree so every value is escaped correctly.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import format_datetime

from anshin.i18n import translate
from anshin.statuspage import rules
from anshin.statuspage.snapshot import PageSnapshot

ATOM_NS = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 200
# Characters XML 1.0 forbids even escaped; a pasted log line must not break every feed reader.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str | None) -> str:
    """Text safe to put in an XML document (ElementTree escapes <, & and quotes itself)."""
    return _NOT_XML.sub("", text or "")


def stamp(value: dt.datetime) -> str:
    """RFC 3339 for Atom, in UTC."""
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Entry:
    """One item in the feeds."""

    id: str
    title: str
    body: str
    link: str
    at: dt.datetime


def entries(snapshot: PageSnapshot, locale: str) -> list[Entry]:
    """Public updates and maintenance announcements, newest first."""
    base = snapshot.settings.base_url.rstrip("/")
    page_url = f"{base}/" if locale == "ja" else f"{base}/en/"
    items: list[Entry] = []
    for incident in snapshot.active + snapshot.history:
        title = incident.title_en if locale == "en" and incident.title_en else incident.title
        for update in incident.public_updates:
            label = translate(locale, rules.INCIDENT_STATUS_LABELS[update.status])
            items.append(
                Entry(
                    id=f"urn:anshin:{incident.reference}:update:{update.id}",
                    title=clean(f"[{label}] {title}"),
                    body=clean(update.body(locale)),
                    link=f"{page_url}#{incident.reference}",
                    at=update.published_at,
                )
            )
    for window in snapshot.maintenances + snapshot.past_maintenances:
        title = window.title_en if locale == "en" and window.title_en else window.title
        label = translate(locale, rules.INCIDENT_STATUS_LABELS[window.status])
        body = window.body_en if locale == "en" and window.body_en else window.body
        items.append(
            Entry(
                id=f"urn:anshin:{window.reference}:{window.status}",
                title=clean(f"[{label}] {title}"),
                body=clean(body),
                link=f"{page_url}#{window.reference}",
                at=window.updated_at,
            )
        )
    items.sort(key=lambda e: e.at, reverse=True)
    return items[:MAX_ENTRIES]


def _feed_title(snapshot: PageSnapshot, locale: str) -> str:
    return clean(f"{snapshot.settings.site_name} — {translate(locale, 'Status history')}")


def atom(snapshot: PageSnapshot, locale: str) -> bytes:
    """An Atom 1.0 document."""
    ET.register_namespace("", ATOM_NS)
    base = snapshot.settings.base_url.rstrip("/")
    prefix = "" if locale == "ja" else "/en"
    items = entries(snapshot, locale)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": locale})
    ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = f"{base}{prefix}/history.atom"
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = _feed_title(snapshot, locale)
    updated = items[0].at if items else snapshot.updated_at
    ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = stamp(updated)
    ET.SubElement(
        feed, f"{{{ATOM_NS}}}link", {"rel": "self", "href": f"{base}{prefix}/history.atom"}
    )
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", {"rel": "alternate", "href": f"{base}{prefix}/"})
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    ET.SubElement(author, f"{{{ATOM_NS}}}name").text = clean(snapshot.settings.site_name)
    for item in items:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = item.id
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = item.title
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = stamp(item.at)
        ET.SubElement(entry, f"{{{ATOM_NS}}}published").text = stamp(item.at)
        ET.SubElement(entry, f"{{{ATOM_NS}}}link", {"rel": "alternate", "href": item.link})
        ET.SubElement(entry, f"{{{ATOM_NS}}}content", {"type": "text"}).text = item.body
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        feed, encoding="utf-8", xml_declaration=False
    )


def rss(snapshot: PageSnapshot, locale: str) -> bytes:
    """An RSS 2.0 document."""
    base = snapshot.settings.base_url.rstrip("/")
    prefix = "" if locale == "ja" else "/en"
    items = entries(snapshot, locale)
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = _feed_title(snapshot, locale)
    ET.SubElement(channel, "link").text = f"{base}{prefix}/"
    ET.SubElement(channel, "description").text = translate(
        locale, "Incidents and maintenance, as published on the status page."
    )
    ET.SubElement(channel, "language").text = locale
    updated = items[0].at if items else snapshot.updated_at
    ET.SubElement(channel, "lastBuildDate").text = format_datetime(updated.astimezone(dt.UTC))
    for item in items:
        node = ET.SubElement(channel, "item")
        ET.SubElement(node, "title").text = item.title
        ET.SubElement(node, "link").text = item.link
        ET.SubElement(node, "guid", {"isPermaLink": "false"}).text = item.id
        ET.SubElement(node, "pubDate").text = format_datetime(item.at.astimezone(dt.UTC))
        ET.SubElement(node, "description").text = item.body
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        root, encoding="utf-8", xml_declaration=False
    )

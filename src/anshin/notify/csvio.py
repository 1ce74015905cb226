"""CSV import and export of email subscribers (R26): columns email, locale, components, status.

``components`` holds component names (Japanese or English) or ids separated
by ``;`` — empty means every component. Import checks every row before it
writes anything: one bad row and the whole file is refused with the list of
problems, so a list is never half-imported. An address already present is
updated (export, edit, import back is the intended round trip).

Output safety: an exported cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is written with a leading ``'`` so a spreadsheet shows
it as text instead of running it as a formula (import takes the mark off). A
field longer than 128 KiB refuses the whole file before anything is checked.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from anshin import events
from anshin.components.models import Component
from anshin.db import utcnow
from anshin.errors import AnshinError, InvalidInput
from anshin.i18n import N_
from anshin.inputs import BadInput
from anshin.notify import rules
from anshin.notify.models import Subscriber, SubscriberComponent
from anshin.notify.rules import SubscriberStatus
from anshin.notify.subscribers import set_components

COLUMNS: tuple[str, ...] = ("email", "locale", "components", "status")
MAX_ROWS = 500_000
# The longest field a row may hold (the csv module's own limit, said in the user's words).
FIELD_MAX_KIB = 128


class Unreadable(BadInput):
    """The file cannot be read as CSV (a field too long, a broken quote): nothing is imported.

    Unlike :class:`ImportFailed` (rows that read but are wrong) this is a file the
    caller must fix before anything can be checked: HTTP 422, CLI exit 2.
    """


@dataclass(frozen=True)
class RowError:
    """A problem on one line of the file (line 1 is the header)."""

    line: int
    error: AnshinError


class ImportFailed(InvalidInput):
    """The file had errors; nothing was imported. ``errors`` lists them per line."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            N_("The file was not imported: {n} problem(s) found. Nothing was changed."),
            n=len(errors),
        )
        self.errors = errors


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    locale: str
    status: str
    components: list[int]


def _component_index(session: Session) -> dict[str, int]:
    index: dict[str, int] = {}
    for component in session.scalars(select(Component)):
        index[str(component.id)] = component.id
        index[component.name.casefold()] = component.id
        if component.name_en:
            index[component.name_en.casefold()] = component.id
    return index


def _records(reader: csv.DictReader[str]) -> Iterator[dict[str, str]]:
    """The rows of ``reader`` with export's formula marks taken off; a field too long stops it."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.reader.line_num  # the line that broke (DictReader's lags a row)
            if "field limit" in str(exc):
                raise Unreadable(
                    N_("Line {line}: a field is longer than {n} KiB. Nothing was imported."),
                    line=line,
                    n=FIELD_MAX_KIB,
                ) from None
            raise Unreadable(
                N_("Line {line} is not valid CSV. Nothing was imported."), line=line
            ) from None
        yield {k: rules.csv_uncell(v) if isinstance(v, str) else v for k, v in record.items()}


def _parse(session: Session, text: str) -> list[_Row]:
    csv.field_size_limit(FIELD_MAX_KIB * 1024)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        fieldnames = reader.fieldnames
    except csv.Error:
        raise Unreadable(
            N_("Line {line}: a field is longer than {n} KiB. Nothing was imported."),
            line=1,
            n=FIELD_MAX_KIB,
        ) from None
    header = [h.strip().lower() for h in (fieldnames or [])]
    if "email" not in header:
        raise ImportFailed(
            [RowError(1, InvalidInput(N_("The header row must name an email column.")))]
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ImportFailed(
            [
                RowError(
                    1,
                    InvalidInput(
                        N_("Unknown column: {value}. Use {choices}."),
                        value=", ".join(unknown),
                        choices=", ".join(COLUMNS),
                    ),
                )
            ]
        )
    reader.fieldnames = header
    components = _component_index(session)
    rows: list[_Row] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for record in _records(reader):
        line = reader.line_num
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(
                RowError(line, InvalidInput(N_("Too many rows (at most {n})."), n=MAX_ROWS))
            )
            break
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue  # blank line
        try:
            email = rules.normalise_email(record.get("email"))
            if email in seen:
                raise InvalidInput(
                    N_("{value} appears twice (also on line {line})."),
                    value=email,
                    line=seen[email],
                )
            locale = rules.check_locale(record.get("locale") or "ja")
            status = rules.check_subscriber_status(record.get("status") or "active")
            chosen: list[int] = []
            for name in rules.split_components(record.get("components")):
                found = components.get(name.casefold())
                if found is None:
                    raise InvalidInput(N_("Unknown component: {value}."), value=name)
                chosen.append(found)
        except AnshinError as exc:
            errors.append(RowError(line, exc))
            continue
        seen[email] = line
        rows.append(_Row(line, email, locale, status, sorted(set(chosen))))
    if errors:
        raise ImportFailed(errors)
    return rows


def _existing(session: Session, emails: list[str]) -> dict[str, Subscriber]:
    found: dict[str, Subscriber] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        stmt = select(Subscriber).where(Subscriber.kind == "email", Subscriber.address.in_(chunk))
        found.update({s.address: s for s in session.scalars(stmt)})
    return found


def _status_times(status: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "confirmed_at": now if status == "active" else None,
        "unsubscribed_at": now if status == "unsubscribed" else None,
    }


def import_csv(
    session: Session, text: str, *, actor: str, now: dt.datetime | None = None
) -> ImportReport:
    """Check every row, then create or update the subscribers, in the caller's transaction."""
    now = now or utcnow()
    rows = _parse(session, text)
    existing = _existing(session, [r.email for r in rows])
    created = updated = unchanged = 0
    new_rows = [r for r in rows if r.email not in existing]
    for row in rows:
        subscriber = existing.get(row.email)
        if subscriber is None:
            continue
        before = (subscriber.locale, subscriber.status, subscriber.component_ids)
        if before == (row.locale, row.status, row.components):
            unchanged += 1
            continue
        if subscriber.status != row.status:
            for key, value in _status_times(row.status, now).items():
                if value is not None:
                    setattr(subscriber, key, value)
        subscriber.locale, subscriber.status = row.locale, row.status
        set_components(subscriber, row.components)
        updated += 1
    if new_rows:
        values = [
            {
                "kind": "email",
                "address": r.email,
                "locale": r.locale,
                "status": r.status,
                "source": "import",
                "created_at": now,
                **_status_times(r.status, now),
            }
            for r in new_rows
        ]
        ids = list(
            session.scalars(
                insert(Subscriber).returning(Subscriber.id, sort_by_parameter_order=True), values
            )
        )
        links = [
            {"subscriber_id": sid, "component_id": c}
            for sid, r in zip(ids, new_rows, strict=True)
            for c in r.components
        ]
        if links:
            session.execute(insert(SubscriberComponent), links)
        created = len(ids)
    session.flush()
    events.record(
        session,
        actor=actor,
        entity_type="notify_import",
        entity_id=0,
        action="notify.subscribers.imported",
        after={"created": created, "updated": updated, "unchanged": unchanged},
    )
    return ImportReport(created=created, updated=updated, unchanged=unchanged)


def export_csv(session: Session) -> Iterator[str]:
    """The email subscribers as CSV text, chunk by chunk (header first)."""
    names = {c.id: c.name for c in session.scalars(select(Component))}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)  # every cell below goes through rules.csv_cell (CSV injection)
    stmt = (
        select(Subscriber)
        .where(Subscriber.kind == "email", Subscriber.status != SubscriberStatus.STAFF)
        .order_by(Subscriber.id)
        .execution_options(yield_per=1000)
    )
    for count, subscriber in enumerate(session.scalars(stmt), start=1):
        chosen = ";".join(names.get(c, str(c)) for c in subscriber.component_ids)
        row = (subscriber.address, subscriber.locale, chosen, subscriber.status)
        writer.writerow([rules.csv_cell(cell) for cell in row])
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()

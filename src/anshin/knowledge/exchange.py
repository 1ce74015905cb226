"""Import and export against the database, the synonym file, and the starter list (R17).

An import saves every article through :func:`service.save` in the caller's
transaction, after :func:`io.read_path` has checked all of them: a problem
anywhere means nothing is saved. ``save`` adds a version only when a field
changed, so importing the same folder twice changes nothing and an export read
back in adds no version. Callers commit.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inputs import BadInput, text_problem
from anshin.knowledge import io, rules, service
from anshin.knowledge.models import Article

STARTER = Path(__file__).parent / "data" / "starter"
SYNONYMS_MAX_BYTES = 1024 * 1024
SYNONYM_SEPARATORS = re.compile(r"[,、，]")
SYNONYMS_HEADER = "# anshin synonyms: one group per line, words separated by commas\n"

Progress = io.Progress


@dataclass
class ImportReport:
    """Keys created, updated (a new version) and unchanged (no version) by one import."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _versions(session: Session, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):  # IN lists of a size every database takes
        chunk = keys[start : start + 500]
        rows = session.execute(select(Article.key, Article.version).where(Article.key.in_(chunk)))
        found.update({key: version for key, version in rows})
    return found


def import_items(
    session: Session, items: Sequence[io.Item], *, actor: str, progress: Progress | None = None
) -> ImportReport:
    """Save checked articles: new keys created, changed ones get a version, the rest untouched."""
    before = _versions(session, [item.draft.key for item in items])
    report = ImportReport()
    for done, item in enumerate(items, start=1):
        article = service.save(session, item.draft, actor=actor)
        if item.draft.key not in before:
            report.created.append(article.key)
        elif article.version != before[item.draft.key]:
            report.updated.append(article.key)
        else:
            report.unchanged.append(article.key)
        if progress is not None:
            progress(done, len(items))
    return report


def _write_atomically(path: Path, chunks: Iterable[str]) -> None:
    """Write through a temporary file in the same folder, so a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_markdown_folder(folder: Path, drafts: Iterable[rules.Draft]) -> int:
    """``<key>.md`` per article; other files in the folder are left as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for draft in drafts:
        _write_atomically(folder / f"{draft.key}.md", [io.to_markdown(draft)])
        written += 1
    return written


def write_jsonl(path: Path, drafts: Iterable[rules.Draft]) -> int:
    """One line per article, in the order given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0

    def lines() -> Iterator[str]:
        nonlocal written
        for draft in drafts:
            written += 1
            yield io.to_json_line(draft) + "\n"

    _write_atomically(path, lines())
    return written


def drafts(session: Session) -> Iterator[rules.Draft]:
    """Every article's current fields, by key (the order of an export)."""
    for article in session.scalars(select(Article).order_by(Article.key)):
        yield service.current_draft(article)


def export_path(session: Session, path: Path) -> int:
    """Write every article: ``*.jsonl`` → JSON lines, anything else → a folder of ``<key>.md``."""
    try:
        if path.suffix.lower() == ".jsonl":
            return write_jsonl(path, drafts(session))
        if path.exists() and not path.is_dir():
            raise BadInput(
                N_("Export to a folder or a .jsonl file: {path} is a file."),
                field="PATH",
                path=str(path),
            )
        return write_markdown_folder(path, drafts(session))
    except OSError as exc:
        raise BadInput(
            N_("Cannot write {path}: {reason}"),
            field="PATH",
            path=str(exc.filename or path),
            reason=exc.strerror or str(exc),
        ) from None


# --- the synonym file -------------------------------------------------------------------


def parse_synonyms(raw: bytes) -> list[list[str]]:
    """Groups from a synonym file: a group per line, words split by ``,`` or ``、``; ``#`` comments.

    Refusals (:class:`BadInput`, naming the line) come from the same check the
    console uses (:func:`service.check_synonym_groups`).
    """
    if len(raw) > SYNONYMS_MAX_BYTES:
        raise BadInput(
            N_("The file is {size} bytes; the limit is {limit}."),
            field="FILE",
            size=len(raw),
            limit=SYNONYMS_MAX_BYTES,
        )
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise BadInput(
            N_("The file is not UTF-8 text (byte {offset})."), field="FILE", offset=exc.start
        ) from None
    problem = text_problem(text)
    if problem is not None:
        raise BadInput(problem, field="FILE")
    groups: list[list[str]] = []
    for line in text.splitlines():
        words = line.strip()
        # A comment or a blank line keeps its place, so refusals name the file's line.
        groups.append([] if not words or words.startswith("#") else SYNONYM_SEPARATORS.split(words))
    try:
        return service.check_synonym_groups(groups)
    except InvalidInput as exc:
        raise BadInput(exc.msgid, field="FILE", **exc.params) from None


def format_synonyms(groups: Sequence[Sequence[str]]) -> str:
    """The file :func:`parse_synonyms` reads back to ``groups``."""
    for words in groups:
        for word in words:
            if SYNONYM_SEPARATORS.search(word):
                raise BadInput(
                    N_("The synonym {word} holds a comma and cannot be written one group a line."),
                    field="FILE",
                    word=word,
                )
    return SYNONYMS_HEADER + "".join(", ".join(words) + "\n" for words in groups)


# --- the starter list -------------------------------------------------------------------


@dataclass
class StarterReport:
    """What loading the starter list added; keys the team already has are never overwritten."""

    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    synonym_groups: int = 0


def load_starter(session: Session, *, actor: str) -> StarterReport:
    """Add the shipped starter articles and synonym groups that are missing (idempotent).

    An article whose key exists is left alone (the team may have edited it); a
    starter synonym group is added only when none of its words is in the team's
    list yet, so a team's own grouping of a word wins.
    """
    items = io.read_path(STARTER / "articles")
    have = set(_versions(session, [item.draft.key for item in items]))
    report = StarterReport()
    for item in items:
        if item.draft.key in have:
            report.kept.append(item.draft.key)
        else:
            service.save(session, item.draft, actor=actor)
            report.created.append(item.draft.key)
    current = service.synonym_groups(session)
    known = {word for words in current for word in words}
    new: list[list[str]] = []
    for words in parse_synonyms((STARTER / "synonyms.txt").read_bytes()):
        if not known.intersection(words):
            new.append(words)
            known.update(words)
    if new:
        service.replace_synonyms(session, current + new, actor=actor)
    report.synonym_groups = len(new)
    return report

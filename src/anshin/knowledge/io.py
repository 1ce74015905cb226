"""The knowledge base as files: a folder of Markdown files with YAML front matter, or JSON lines.

A team keeps its knowledge in git, so the file formats are the team's own
(docs/knowledge-io.md):

- **Markdown**: ``<key>.md``; the front matter between two ``---`` lines holds
  the fields of :class:`rules.Draft` except ``body``, which is the Markdown after
  it. ``key`` defaults to the file name without ``.md`` (a ``key:`` in the front
  matter wins, for names a file system cannot hold). One blank line after the
  closing ``---`` and the file's final newline are layout, not body, so an
  exported file reads back to the same body byte for byte.
- **JSON lines**: one object per line, ``{"key", "kind", "title", "body", "tags",
  "locale", "public"}`` plus optional ``state``, ``alternative``, ``components``.

Reading checks everything before anything is written: every value goes
through :func:`rules.check_draft` (the console's and the API's check), and
every problem is reported with its file and line (:class:`ImportRefused`).
Files past :data:`FILE_MAX_BYTES` are refused unread. YAML is read with the
safe loader only (``yaml.safe_load``'s, in C when libyaml is there): a front
matter never builds Python objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inputs import BadInput, text_problem
from anshin.knowledge import rules

FILE_MAX_BYTES = 512 * 1024  # one Markdown file: a 50,000-character body fits with room to spare
LINE_MAX_BYTES = 1024 * 1024  # one JSON line (escapes make a body longer than its text)
IMPORT_MAX_BYTES = 64 * 1024 * 1024  # a whole import, read into memory before anything is saved
PROBLEMS_SHOWN = 50  # more than this and the rest is counted, not listed
FRONT = "---"
FIELDS = tuple(rules.Draft.__dataclass_fields__)
FRONT_FIELDS = tuple(name for name in FIELDS if name != "body")
IGNORED_NAMES = ("readme.md",)  # a git folder's README describes the folder, it is no article
Progress = Callable[[int, int], None]  # (done, total)
# yaml.safe_load / safe_dump, in libyaml's C when PyYAML has it (ten times faster on a big
# folder): the same safe constructors, so a front matter never builds a Python object.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_TOP_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)\s*:")  # a field at the start of a line


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the input: where (file, line) and why (a msgid and its values)."""

    path: str
    line: int
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)


class ImportRefused(BadInput):
    """The input has problems; nothing was saved. ``problems`` lists each with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            N_("Problems in the input: {n}. Nothing was imported."), field="PATH", n=len(problems)
        )
        self.problems = problems


@dataclass(frozen=True)
class Item:
    """One article as read: its checked fields and where it came from."""

    draft: rules.Draft
    path: str
    line: int


class _Refusal(Exception):
    """A problem found while reading one entry (collected by the caller)."""

    def __init__(self, line: int, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.line, self.msgid, self.params = line, msgid, params


# --- one Markdown file -------------------------------------------------------------------


def _field_line(front: list[str], name: str, first: int) -> int:
    """The file line where a front matter field is set (``first`` is the line of ``---``)."""
    for number, text in enumerate(front, start=first + 1):
        if text.split(":", 1)[0].strip() == name:
            return number
    return first


def _decode(raw: bytes) -> str:
    """UTF-8 text (a BOM dropped, CRLF read as LF); not UTF-8 or a NUL is a problem at its line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refusal(
            raw[: exc.start].count(b"\n") + 1,
            N_("The file is not UTF-8 text (byte {offset})."),
            offset=exc.start,
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if "\x00" in text:
        raise _Refusal(text[: text.index("\x00")].count("\n") + 1, text_problem(text) or "")
    return text


def parse_markdown(text: str, *, stem: str) -> rules.Draft:
    """One article from a Markdown file's text; ``stem`` is its name without ``.md``."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FRONT:
        raise _Refusal(
            1,
            N_(
                "A knowledge file starts with front matter between two '---' lines "
                "(kind, title, …)."
            ),
        )
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == FRONT), None)
    if end is None:
        raise _Refusal(1, N_("The front matter is not closed: add a line '---' after it."))
    front = lines[1:end]
    try:
        data = yaml.load("\n".join(front), Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).split("\n", 1)[0]
        # The C and the Python parser put a mark at the end of the input on different lines:
        # the last line of the front matter is where the reader looks either way.
        line = min(mark.line + 2, max(end, 2)) if mark is not None else 2
        raise _Refusal(
            line, N_("The front matter is not valid YAML: {reason}."), reason=reason
        ) from None
    except RecursionError:
        raise _Refusal(2, N_("The front matter is nested too deeply.")) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _Refusal(
            2,
            N_("The front matter must be fields (name: value), not a {type}."),
            type=type(data).__name__,
        )
    # YAML keeps the last of a field set twice; in a file a person edits that is a mistake.
    seen: set[str] = set()
    for number, text in enumerate(front, start=2):
        match = _TOP_FIELD.match(text)
        if match and match.group(1) in data:
            if match.group(1) in seen:
                raise _Refusal(
                    number, N_("The field {name} is set twice in the front matter."), name=match[1]
                )
            seen.add(match.group(1))
    for name in data:
        if not isinstance(name, str) or name not in FRONT_FIELDS:
            raise _Refusal(
                _field_line(front, str(name), 1),
                N_("Unknown field in the front matter: {name}. Known fields: {names}."),
                name=str(name),
                names=", ".join(FRONT_FIELDS),
            )
    body = "\n".join(lines[end + 1 :])
    body = body.removeprefix("\n").removesuffix("\n")
    values: dict[str, object] = {"key": stem, **data, "body": body}
    try:
        return rules.check_draft(values)
    except InvalidInput as exc:
        if exc.field == "key" and "key" not in data:
            raise _Refusal(
                1,
                N_(
                    "The file name {stem} is not a key (lower-case letters, digits, '.', '_', "
                    "'-'): rename the file or add 'key:' to the front matter."
                ),
                stem=stem,
            ) from None
        where = end + 2 if exc.field == "body" else _field_line(front, exc.field or "", 1)
        raise _Refusal(where, exc.msgid, **exc.params) from None


def to_markdown(draft: rules.Draft) -> str:
    """The file :func:`parse_markdown` reads back to ``draft`` (saved as ``<key>.md``)."""
    fields: dict[str, object] = {"kind": draft.kind, "title": draft.title}
    if draft.alternative is not None:
        fields["alternative"] = draft.alternative
    if draft.tags:
        fields["tags"] = list(draft.tags)
    if draft.components:
        fields["components"] = list(draft.components)
    fields |= {"locale": draft.locale, "state": draft.state, "public": draft.public}
    front = yaml.dump(
        fields, Dumper=_SAFE_DUMPER, allow_unicode=True, sort_keys=False, width=1_000_000
    )
    return f"{FRONT}\n{front}{FRONT}\n\n{draft.body}\n"


# --- one JSON line -----------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"the field {name!r} is given twice")
    return dict(pairs)


def _storable(value: object) -> str | None:
    """A NUL or a lone surrogate anywhere in a JSON value (``\\u0000`` escapes are valid JSON)."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, list):
        return next((p for p in map(_storable, value) if p), None)
    return None


def parse_json_line(text: str, line: int) -> rules.Draft:
    """One article from one JSON line (``line`` is where it is, for the problem)."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise _Refusal(line, N_("The line is nested too deeply.")) from None
    except ValueError as exc:  # json.JSONDecodeError is one
        raise _Refusal(line, N_("The line is not valid JSON: {reason}."), reason=str(exc)) from None
    if not isinstance(data, dict):
        raise _Refusal(
            line,
            N_("Each line must be one JSON object, not a {type}."),
            type=type(data).__name__,
        )
    for value in data.values():
        problem = _storable(value)
        if problem:
            raise _Refusal(line, problem)
    try:
        return rules.check_draft(data)
    except InvalidInput as exc:
        raise _Refusal(line, exc.msgid, **exc.params) from None


def to_json_line(draft: rules.Draft) -> str:
    """One line for a ``.jsonl`` file, every field spelled out."""
    return json.dumps(draft.as_fields(), ensure_ascii=False, separators=(", ", ": "))


# --- a path: folder, .md file, .jsonl file ------------------------------------------------


def _markdown_files(folder: Path) -> list[Path]:
    """Every ``*.md`` under the folder, sorted, skipping hidden paths (.git) and READMEs."""
    found = []
    for path in folder.rglob("*.md"):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative) or path.name.lower() in IGNORED_NAMES:
            continue
        if path.is_file():
            found.append(path)
    return sorted(found)


def _size(path: Path, limit: int) -> int:
    size = path.stat().st_size
    if size > limit:
        raise _Refusal(
            1, N_("The file is {size} bytes; the limit is {limit}."), size=size, limit=limit
        )
    return size


def _read_markdown(
    files: list[Path], problems: list[Problem], progress: Progress | None
) -> Iterator[Item]:
    total = 0
    for done, path in enumerate(files, start=1):
        if progress is not None:
            progress(done, len(files))
        try:
            total += _size(path, FILE_MAX_BYTES)
            if total > IMPORT_MAX_BYTES:
                raise _Refusal(
                    1, N_("The import is larger than {limit} bytes."), limit=IMPORT_MAX_BYTES
                )
            draft = parse_markdown(_decode(path.read_bytes()), stem=path.stem)
        except _Refusal as exc:
            problems.append(Problem(str(path), exc.line, exc.msgid, exc.params))
            continue
        yield Item(draft, str(path), 1)


def _read_jsonl(path: Path, problems: list[Problem], progress: Progress | None) -> Iterator[Item]:
    try:
        _size(path, IMPORT_MAX_BYTES)
    except _Refusal as exc:
        problems.append(Problem(str(path), 1, exc.msgid, exc.params))
        return
    lines = path.read_bytes().split(b"\n")  # at most IMPORT_MAX_BYTES
    for number, raw in enumerate(lines, start=1):
        if progress is not None:
            progress(number, len(lines))
        try:
            if len(raw) > LINE_MAX_BYTES:
                raise _Refusal(
                    number,
                    N_("The line is {size} bytes; the limit is {limit}."),
                    size=len(raw),
                    limit=LINE_MAX_BYTES,
                )
            try:
                text = raw.decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError as exc:
                raise _Refusal(
                    number,
                    N_("The line is not UTF-8 text (byte {offset})."),
                    offset=exc.start,
                ) from None
            if not text.strip():
                continue
            yield Item(parse_json_line(text, number), str(path), number)
        except _Refusal as exc:
            problems.append(Problem(str(path), exc.line, exc.msgid, exc.params))


def read_path(path: Path, progress: Progress | None = None) -> list[Item]:
    """Every article in a folder, a ``.md`` file or a ``.jsonl`` file, all checked.

    Raises :class:`ImportRefused` listing every problem (bad file, bad field,
    a key used twice); :class:`BadInput` when the path is none of these.
    """
    problems: list[Problem] = []
    try:
        if path.is_dir():
            items = list(_read_markdown(_markdown_files(path), problems, progress))
        elif path.is_file() and path.suffix.lower() == ".md":
            items = list(_read_markdown([path], problems, progress))
        elif path.is_file() and path.suffix.lower() == ".jsonl":
            items = list(_read_jsonl(path, problems, progress))
        elif path.exists():
            raise BadInput(
                N_("Import a folder of Markdown files, a .md file or a .jsonl file: {path}"),
                field="PATH",
                path=str(path),
            )
        else:
            raise BadInput(N_("No such file or folder: {path}"), field="PATH", path=str(path))
    except OSError as exc:
        raise BadInput(
            N_("Cannot read {path}: {reason}"),
            field="PATH",
            path=str(exc.filename or path),
            reason=exc.strerror or str(exc),
        ) from None
    seen: dict[str, Item] = {}
    for item in items:
        first = seen.setdefault(item.draft.key, item)
        if first is not item:
            problems.append(
                Problem(
                    item.path,
                    item.line,
                    N_("The key {key} is used twice (also in {where})."),
                    {"key": item.draft.key, "where": f"{first.path}:{first.line}"},
                )
            )
    if problems:
        raise ImportRefused(problems)
    return items

"""What an article may hold and what a search query may be: pure checks, no I/O (R17, R32, R34).

Every refusal names the field and reads in the user's language, so the
console, the API and ``anshin kb import`` (which reports the file and line)
all say the same thing about the same mistake.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from anshin.errors import InvalidInput
from anshin.i18n import N_

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,119}$")
TITLE_MAX = 200
BODY_MAX = 50_000
ALTERNATIVE_MAX = 500
TAGS_MAX = 20
TAG_MAX = 40
COMPONENTS_MAX = 20
LOCALES = ("ja", "en")
QUERY_MAX = 200  # characters; a longer "query" is a pasted text, refused with a reason
LIMIT_MAX = 50


class Kind(StrEnum):
    """R17: what kind of knowledge an article is."""

    FAQ = "faq"  # a frequent question and its answer; public ones are the status page's FAQ (R34)
    EXPLANATION = "explanation"  # an explanation that worked with customers
    WORKAROUND = "workaround"  # how to keep working meanwhile
    SCRIPT = "script"  # a phone or chat script
    AVOID_EXPRESSION = "avoid_expression"  # title: the expression; body: why; + alternative


class State(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class LinkTarget(StrEnum):
    """R32: the records an article can be linked back to."""

    INCIDENT = "incident"
    INQUIRY = "inquiry"
    UPDATE = "update"  # an incident update (public notice or internal note)
    REPLY = "reply"  # an inquiry message sent to the customer
    REVIEW_NOTE = "review_note"


class Relation(StrEnum):
    SOURCE = "source"  # the article was drawn from this record ("save as article")
    USED = "used"  # the article was inserted into a reply on this record


@dataclass(frozen=True)
class Draft:
    """An article's editable fields, validated; what a version stores."""

    key: str
    kind: str
    title: str
    body: str = ""
    alternative: str | None = None
    tags: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    locale: str = "ja"
    state: str = State.DRAFT.value
    public: bool = False

    def as_fields(self) -> dict[str, Any]:
        fields = asdict(self)
        fields["tags"] = list(self.tags)
        fields["components"] = list(self.components)
        return fields


def _one_line(value: object, name: str, limit: int, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(N_("{name} must be text."), field=name, name=name)
    text = " ".join(value.split())
    if required and not text:
        raise InvalidInput(N_("{name} is required."), field=name, name=name)
    if len(text) > limit:
        raise InvalidInput(
            N_("{name} must be at most {n} characters."), field=name, name=name, n=limit
        )
    return text


def _words(value: object, name: str, most: int, longest: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in re.split(r"[,、]", value)]
    if not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise InvalidInput(N_("{name} must be a list of words."), field=name, name=name)
    words: list[str] = []
    for item in value:
        word = _one_line(item, name, longest, required=False)
        if word and word not in words:
            words.append(word)
    if len(words) > most:
        raise InvalidInput(N_("At most {n} {name}."), field=name, name=name, n=most)
    return tuple(words)


def check_key(key: object) -> str:
    """The team's stable id: lower-case letters, digits, ``.``, ``_`` and ``-``."""
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidInput(
            N_(
                "The key must be 1 to 120 lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter or digit."
            ),
            field="key",
        )
    return key


def check_draft(values: Mapping[str, object]) -> Draft:
    """Validate an article from any source (form, API, Markdown file, JSON line)."""
    unknown = set(values) - set(Draft.__dataclass_fields__)
    if unknown:
        raise InvalidInput(
            N_("Unknown fields: {names}."),
            field=sorted(unknown)[0],
            names=", ".join(sorted(unknown)),
        )
    key = check_key(values.get("key"))
    kind = values.get("kind")
    if kind not in {k.value for k in Kind}:
        raise InvalidInput(
            N_("The kind must be one of: {kinds}."),
            field="kind",
            kinds=", ".join(k.value for k in Kind),
        )
    title = _one_line(values.get("title"), "title", TITLE_MAX, required=True)
    body = values.get("body") or ""
    if not isinstance(body, str):
        raise InvalidInput(N_("{name} must be text."), field="body", name="body")
    if len(body) > BODY_MAX:
        raise InvalidInput(
            N_("{name} must be at most {n} characters."), field="body", name="body", n=BODY_MAX
        )
    alternative = _one_line(
        values.get("alternative"), "alternative", ALTERNATIVE_MAX, required=False
    )
    if kind == Kind.AVOID_EXPRESSION and not alternative:
        raise InvalidInput(
            N_("An expression to avoid needs the recommended alternative."), field="alternative"
        )
    locale = values.get("locale") or "ja"
    if locale not in LOCALES:
        raise InvalidInput(N_("The locale must be ja or en."), field="locale")
    state = values.get("state") or State.DRAFT.value
    if state not in {s.value for s in State}:
        raise InvalidInput(N_("The state must be draft or published."), field="state")
    public = values.get("public", False)
    if not isinstance(public, bool):
        raise InvalidInput(N_("{name} must be true or false."), field="public", name="public")
    return Draft(
        key=key,
        kind=str(kind),
        title=title,
        body=body.replace("\r\n", "\n"),
        alternative=alternative or None,
        tags=_words(values.get("tags"), "tags", TAGS_MAX, TAG_MAX),
        components=_words(values.get("components"), "components", COMPONENTS_MAX, 200),
        locale=str(locale),
        state=str(state),
        public=public,
    )


def is_public_faq(kind: str, state: str, public: bool) -> bool:
    """R34: what the status page may show — published, public FAQ articles only."""
    return kind == Kind.FAQ and state == State.PUBLISHED and public


@dataclass(frozen=True)
class Query:
    """A search as asked: the words and the filters (R17 search)."""

    text: str
    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ("article",)
    component: str | None = None
    locale: str | None = None
    state: str | None = None  # None: any state (staff); the public FAQ asks for published
    public_only: bool = False
    limit: int = 10
    tags: tuple[str, ...] = field(default=())


SOURCES = ("article", "inquiry", "incident", "update")


def check_query(
    text: object,
    *,
    kinds: Iterable[str] = (),
    sources: Iterable[str] = ("article",),
    component: str | None = None,
    locale: str | None = None,
    state: str | None = None,
    public_only: bool = False,
    limit: int = 10,
) -> Query:
    """A query a user typed: never empty, never a pasted page, filters from the known values.

    Operators and quotes are not refused here: the search treats every
    character as text, so ``"障害" OR NEAR(`` is searched for, never executed.
    """
    if not isinstance(text, str) or not " ".join(text.split()):
        raise InvalidInput(N_("Type something to search for."), field="q")
    words = " ".join(text.split())
    if len(words) > QUERY_MAX:
        raise InvalidInput(N_("The search must be at most {n} characters."), field="q", n=QUERY_MAX)
    kinds = tuple(kinds)
    bad = [k for k in kinds if k not in {kind.value for kind in Kind}]
    if bad:
        raise InvalidInput(
            N_("The kind must be one of: {kinds}."),
            field="kind",
            kinds=", ".join(k.value for k in Kind),
        )
    sources = tuple(sources) or ("article",)
    if any(s not in SOURCES for s in sources):
        raise InvalidInput(N_("Search in: {sources}."), field="source", sources=", ".join(SOURCES))
    if locale is not None and locale not in LOCALES:
        raise InvalidInput(N_("The locale must be ja or en."), field="locale")
    if state is not None and state not in {s.value for s in State}:
        raise InvalidInput(N_("The state must be draft or published."), field="state")
    if not 1 <= limit <= LIMIT_MAX:
        raise InvalidInput(N_("The limit must be from 1 to {n}."), field="limit", n=LIMIT_MAX)
    return Query(
        text=words,
        kinds=kinds,
        sources=sources,
        component=component or None,
        locale=locale,
        state=state,
        public_only=public_only,
        limit=limit,
    )

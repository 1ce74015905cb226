"""Hostile values by the type a field declares, and the checks every answer to them must pass.

Used by the fuzz tests (tests/test_input_fuzz_*.py). A value marked ``refuse``
must be refused (4xx, nothing changed); the others may be accepted (a title of
"١٢" is a title) but never end in a 5xx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from input_world import World, digest

BIGINT_PLUS_ONE = 2**63
LONG = 50_001  # past every text limit (50,000 for an inquiry's text, 20,000 for templates)


@dataclass(frozen=True)
class Bad:
    """One hostile value and whether it must be refused."""

    label: str
    value: Any
    refuse: bool = True


TEXT: tuple[Bad, ...] = (
    Bad("lone surrogate", "a\ud800b"),
    Bad("NUL", "a\x00b"),
    Bad("very long", "長" * LONG),
    Bad("superscript digit", "²", refuse=False),
    Bad("Arabic-Indic digits", "١٢", refuse=False),
    Bad("number", 12),
    Bad("boolean", True),
    Bad("object", {"a": 1}),
)
INTEGER: tuple[Bad, ...] = (
    Bad("true", True),
    Bad("numeric string", "12"),
    Bad("fraction", 1.5),
    Bad("float 1e12", 1e12),
    Bad("2**63", BIGINT_PLUS_ONE),
    Bad("-2**63-1", -BIGINT_PLUS_ONE - 1),
    Bad("-1", -1, refuse=False),
    Bad("superscript digit", "²"),
)
BOOLEAN: tuple[Bad, ...] = (
    Bad("1", 1),
    Bad("0", 0),
    Bad('"true"', "true"),
    Bad('"yes"', "yes"),
)
TIME: tuple[Bad, ...] = (
    Bad("epoch 0", 0),
    Bad("epoch 1e12", 1e12),
    Bad("epoch as text", "1700000000"),
    Bad("a date in 1900", "1900-01-01"),
    Bad("1900 with a time", "1900-01-01T09:00:00+09:00"),
    Bad("year 9999 +14:00", "9999-12-31T23:59:59+14:00"),
    Bad("year 9999 -12:00", "9999-12-31T23:59:59-12:00"),
    Bad("year 1 -12:00", "0001-01-01T00:00:00-12:00"),
    Bad("year 1 +14:00", "0001-01-01T00:00:00+14:00"),
    Bad("year 1 without offset", "0001-01-01T00:00"),
    Bad("30 February", "2026-02-30T10:00"),
    Bad("lone surrogate", "2026-12-01T10:00\ud800"),
    Bad("boolean", True),
)
STRING_LIST: tuple[Bad, ...] = (
    Bad("a string", "ログイン"),
    Bad("NUL item", ["a\x00b"]),
    Bad("lone surrogate item", ["\ud800"]),
    Bad("boolean item", [True]),
    Bad("2**63 item", [BIGINT_PLUS_ONE]),
    Bad("superscript item", ["²"], refuse=False),
    Bad("too many", [f"c{i}" for i in range(1001)]),
)
INTEGER_LIST: tuple[Bad, ...] = (
    Bad("a number", 1),
    Bad("numeric string item", ["1"]),
    Bad("2**63 item", [BIGINT_PLUS_ONE]),
    Bad("true item", [True]),
    Bad("too many", list(range(1, 1003))),
)
OBJECT: tuple[Bad, ...] = (
    Bad("a string", "x"),
    Bad("a list", []),
    Bad("unknown field inside", {"zzz": 1}),
)

# Path and query values arrive as text, percent-encoded as a client sends them. In a
# path they name no record (always refused); in a text query they may be a harmless filter.
URL_TEXT: tuple[Bad, ...] = (
    Bad("NUL", "%00"),
    Bad("superscript digit", "%C2%B2", refuse=False),
    Bad("Arabic-Indic digits", "%D9%A1%D9%A2", refuse=False),
    Bad("2**63", str(BIGINT_PLUS_ONE), refuse=False),
    Bad("-1", "-1", refuse=False),
    Bad("very long", "x" * 3000, refuse=False),
    Bad("surrogate as UTF-8 bytes", "%ED%A0%80", refuse=False),
    Bad("invalid UTF-8", "%FF%FE", refuse=False),
)
URL_INTEGER: tuple[Bad, ...] = (
    *(Bad(bad.label, bad.value) for bad in URL_TEXT),
    Bad("true", "true"),
    Bad("fraction", "1.5"),
    Bad("exponent", "1e3"),
)
URL_BOOLEAN: tuple[Bad, ...] = (Bad("2", "2"), Bad("maybe", "maybe"), Bad("NUL", "%00"))


def kind_of(schema: dict[str, Any]) -> str:
    """The kind of hostile values a JSON-schema property gets: text, integer, time…"""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    chosen = options[0] if options else schema
    if "$ref" in chosen:
        return "object"
    kind = chosen.get("type", "string")
    if kind == "string" and chosen.get("format") == "date-time":
        return "time"
    if kind == "array":
        return "integer-list" if chosen.get("items", {}).get("type") == "integer" else "text-list"
    return {"integer": "integer", "boolean": "boolean", "number": "integer"}.get(kind, "text")


BY_KIND: dict[str, tuple[Bad, ...]] = {
    "text": TEXT,
    "integer": INTEGER,
    "boolean": BOOLEAN,
    "time": TIME,
    "text-list": STRING_LIST,
    "integer-list": INTEGER_LIST,
    "object": OBJECT,
}


def dumps(body: Any) -> bytes:
    """JSON as a client sends it; a lone surrogate goes out as the escape ``\\ud800``."""
    return json.dumps(body, ensure_ascii=True).encode("ascii")


@dataclass
class Findings:
    """Every broken promise of one run, reported together."""

    problems: list[str] = field(default_factory=list)

    def add(self, case: str, problem: str) -> None:
        """Note one broken promise."""
        self.problems.append(f"{case}: {problem}")

    def report(self) -> str:
        """The findings, one per line, for the assertion message."""
        return f"{len(self.problems)} problems:\n" + "\n".join(self.problems[:200])


def check_api_answer(response: httpx.Response, case: str, found: Findings) -> None:
    """No 5xx; a 4xx under /api/ is JSON with an error message."""
    if response.status_code >= 500:
        found.add(case, f"HTTP {response.status_code}: {response.text[:200]!r}")
        return
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
        message = error["message"]
    except (ValueError, KeyError, TypeError):
        found.add(
            case, f"HTTP {response.status_code} without a JSON error: {response.text[:200]!r}"
        )
        return
    if not isinstance(message, str) or not message.strip():
        found.add(case, f"HTTP {response.status_code} with an empty message: {error!r}")


def check_page_answer(response: httpx.Response, case: str, found: Findings) -> None:
    """No 5xx; a 4xx outside /api/ is a page that says something."""
    if response.status_code >= 500:
        found.add(case, f"HTTP {response.status_code}: {response.text[:200]!r}")
        return
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith(("text/html", "application/json")) or not response.text:
            found.add(case, f"HTTP {response.status_code} without a page: {content_type}")


class Runner:
    """Sends cases, checks each answer, and checks that a refusal changed nothing.

    Two checks of "nothing changed": no request that is refused may commit a
    transaction on the app's engine (counted per request, so the case is named),
    and every table reads the same after a stretch of refusals as before it
    (:meth:`stretch`; a stretch with an accepted case starts again from there).
    """

    def __init__(
        self, app: FastAPI, client: TestClient, world: World, sessions: sessionmaker[Session]
    ) -> None:
        self.client = client
        self.world = world
        self.sessions = sessions
        self.found = Findings()
        self.sent = 0
        self.commits = 0
        self.accepted = False
        self.state = digest(sessions)
        self.label = ""

        def count(_connection: Any) -> None:
            self.commits += 1

        event.listen(app.state.engine, "commit", count)

    def stretch(self, label: str) -> None:
        """End the stretch of cases so far (compare every table) and start the next."""
        now = digest(self.sessions)
        if not self.accepted and now != self.state:
            self.found.add(self.label, "everything was refused but the database changed")
        self.state, self.accepted, self.label = now, False, label

    def send(
        self,
        case: str,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        content_type: str = "application/json",
        refuse: bool = True,
        api: bool = True,
    ) -> httpx.Response:
        """One request as the signed-in admin; the findings go to :attr:`found`."""
        headers = self.world.headers()
        if content is not None:
            headers["Content-Type"] = content_type
        self.client.cookies.clear()
        before = self.commits
        response = self.client.request(
            method, url, content=content, headers=headers, follow_redirects=False
        )
        self.sent += 1
        (check_api_answer if api else check_page_answer)(response, case, self.found)
        committed = self.commits != before
        if response.status_code >= 400 and committed:
            self.found.add(case, f"HTTP {response.status_code} but a transaction was committed")
        if refuse and (200 <= response.status_code < 300 or committed):
            self.found.add(case, f"accepted with HTTP {response.status_code}")
        self.accepted = self.accepted or committed
        return response

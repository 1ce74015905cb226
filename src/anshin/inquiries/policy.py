"""The inquiry policy, read from data: due times, the authority matrix, wait alerts.

The numbers are the team's to change (R18, R22, R27, R28): the packaged
``data/policy.toml`` holds the defaults, ``ANSHIN_INQUIRY_POLICY_FILE`` names a
copy with the team's own. A file that does not parse, names an unknown level,
tier or commitment kind, or leaves one out, stops the start with a message
that says which entry is wrong — a wrong due time must not slip into queues.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from anshin.config import Settings
from anshin.errors import InvalidInput
from anshin.i18n import N_
from anshin.inquiries.rules import LEVELS, CommitmentKind, Policy, Tier

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "policy.toml"


def _minutes(value: Any, entry: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(
            N_("Inquiry policy: {entry} must be a whole number of minutes, 1 or more."),
            entry=entry,
        )
    return value


def parse(text: str) -> Policy:
    """A policy from TOML text, every entry checked."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            N_("Inquiry policy: the file is not valid TOML ({error})."), error=str(exc)
        ) from None
    first: dict[tuple[int, str], int] = {}
    for level in LEVELS:
        for tier in Tier:
            key = f"{level}.{tier}"
            value = data.get("first_response_minutes", {}).get(key)
            first[(level, str(tier))] = _minutes(value, f"first_response_minutes.{key}")
    authority: dict[str, int] = {}
    table = data.get("authority", {})
    for kind in CommitmentKind:
        value = table.get(str(kind))
        if value not in LEVELS:
            raise InvalidInput(
                N_("Inquiry policy: authority.{kind} must be 1, 2 or 3."), kind=str(kind)
            )
        authority[str(kind)] = int(value)
    waits = {
        level: _minutes(
            data.get("wait_alert_minutes", {}).get(str(level)), f"wait_alert_minutes.{level}"
        )
        for level in LEVELS
    }
    return Policy(first_response_minutes=first, authority=authority, wait_alert_minutes=waits)


@lru_cache(maxsize=8)
def _load(path: str) -> Policy:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(
            N_("Inquiry policy: cannot read {path} ({error})."),
            path=path,
            error=exc.strerror or str(exc),
        ) from None
    return parse(text)


def policy(settings: Settings) -> Policy:
    """The team's policy (``ANSHIN_INQUIRY_POLICY_FILE``), else the packaged defaults."""
    return _load(settings.inquiry_policy_file or str(DEFAULT_FILE))

"""Turning a past inquiry into a training drill: what is removed and how (R33); pure.

A drill must teach with real wording and never expose a real customer: mail
addresses, phone numbers, URLs with query strings, inquiry references and
the names the record knows (the customer's, the organisation's, the agents')
are replaced by neutral placeholders before anything is stored. Names the
record does not know (a colleague's name the customer typed) cannot be found
by a rule; the supervisor sees the result before saving and can edit it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from anshin.errors import InvalidInput
from anshin.i18n import N_

TEXT_MAX = 20_000
NOTE_MAX = 2_000
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Japanese and international numbers: 03-1234-5678, 090 1234 5678, +81 3 1234 5678, 0120-123-456.
_PHONE = re.compile(r"(?<!\d)(?:\+\d{1,3}[\s-]?)?\(?0?\d{1,4}\)?[\s-]?\d{2,4}[\s-]?\d{3,4}(?!\d)")
_URL = re.compile(r"https?://\S+")
_REFERENCE = re.compile(r"\bQ-\d{4}-\d{6}\b")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－（）", "0123456789+-()")


class DrillLabel(StrEnum):
    """The shared library: a good example to follow or a bad one to learn from."""

    GOOD = "good"
    BAD = "bad"


def _name_variants(names: Iterable[str | None]) -> list[str]:
    """Each known name and its parts (山田 花子 → 山田 花子, 山田, 花子), longest first."""
    found: set[str] = set()
    for name in names:
        if not name or not name.strip():
            continue
        whole = " ".join(name.split())
        found.add(whole)
        found.add(whole.replace(" ", ""))
        found.update(part for part in whole.split(" ") if len(part) >= 2)
    return sorted(found, key=len, reverse=True)


def anonymise(
    text: str, *, names: Iterable[str | None] = (), organisations: Iterable[str | None] = ()
) -> str:
    """``text`` with contact details, references and the record's known names replaced."""
    out = _URL.sub("[URL]", text)
    out = _EMAIL.sub("[メールアドレス]", out)
    out = _REFERENCE.sub("Q-XXXX-XXXXXX", out)
    # Phone numbers typed in full-width digits are still phone numbers.
    widened = out.translate(_FULLWIDTH_DIGITS)
    if len(widened) == len(out):
        spans = [
            m.span() for m in _PHONE.finditer(widened) if sum(c.isdigit() for c in m.group()) >= 9
        ]
        for start, end in reversed(spans):
            out = out[:start] + "[電話番号]" + out[end:]
    for org in _name_variants(organisations):
        out = out.replace(org, "[会社名]")
    for name in _name_variants(names):
        out = out.replace(name, "[氏名]")
    return out


def check_drill(customer_text: object, label: object, note: object) -> tuple[str, str | None, str]:
    """The drill's customer text (required), its library label (good, bad or none) and a note."""
    text = customer_text.strip() if isinstance(customer_text, str) else ""
    if not text:
        raise InvalidInput(N_("The drill needs the customer's words."), field="customer_text")
    if len(text) > TEXT_MAX:
        raise InvalidInput(
            N_("The customer's words must be at most {n} characters."),
            field="customer_text",
            n=TEXT_MAX,
        )
    if label in (None, ""):
        clean_label = None
    elif label in {item.value for item in DrillLabel}:
        clean_label = str(label)
    else:
        raise InvalidInput(N_("The example must be good, bad or neither."), field="label")
    note_text = note.strip() if isinstance(note, str) else ""
    if len(note_text) > NOTE_MAX:
        raise InvalidInput(N_("The note must be at most {n} characters."), field="note", n=NOTE_MAX)
    return text, clean_label, note_text


def check_reply(reply: object) -> str:
    text = reply.strip() if isinstance(reply, str) else ""
    if not text:
        raise InvalidInput(N_("Write your reply to the customer."), field="reply")
    if len(text) > TEXT_MAX:
        raise InvalidInput(
            N_("The reply must be at most {n} characters."), field="reply", n=TEXT_MAX
        )
    return text
